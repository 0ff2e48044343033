"""Per-patient PK covariates in the cohort path: isatuximab's non-IgG clearance (Fau 2020)."""

import numpy as np
import pytest

from mmmech import dynamics, populations
from mmmech.dynamics.cohort import simulate_cohort
from mmmech.exceptions import InvalidInputError

BODY = {"weight_kg": 70.0, "bsa_m2": 1.8}
KW = {"cycles": 1, "step_hours": 12.0}


@pytest.fixture(scope="module")
def isa_kd():
    igg, non = ({"non_igg_myeloma": v} for v in (0.0, 1.0))
    got = simulate_cohort("isa_kd", [BODY, BODY], pk_covariates=[igg, non], **KW)
    want = [dynamics.simulate_regimen("isa_kd", body=BODY, covariates=c, **KW) for c in (igg, non)]
    return got, want


def test_cohort_covariates_reach_the_course(isa_kd):
    got, _ = isa_kd
    # IgG (the reference, indicator 0) is exactly the course without the covariate
    plain = simulate_cohort("isa_kd", [BODY], **KW)
    np.testing.assert_array_equal(got.m_protein[0], plain.m_protein[0])
    # non-IgG: more isatuximab (lower clearance), never a worse course
    assert np.all(got.m_protein[1] <= got.m_protein[0] + 1e-12)
    assert got.m_protein[1][-1] < got.m_protein[0][-1]


def test_non_igg_myeloma_raises_isatuximab_exposure_only(isa_kd):
    _, (igg, non) = isa_kd
    # Fau 2020: CLinf x exp(-0.751) in non-IgG myeloma -> more isatuximab, same carfilzomib
    assert non.pk["isatuximab"]["auc_nM_h"] > 1.3 * igg.pk["isatuximab"]["auc_nM_h"]
    assert non.pk["carfilzomib"] == igg.pk["carfilzomib"]
    # IgG (the reference, 0) is the course without the covariate
    plain = dynamics.simulate_regimen("isa_kd", body=BODY, **KW)
    assert plain.pk["isatuximab"] == igg.pk["isatuximab"]


def test_patient_isotype_covariate():
    pop = populations.load("rrmm")
    pts = populations.sample(pop, 40, seed=2)
    seen = set()
    for p in pts:
        cov = p.isotype_covariates()
        assert cov == ({"non_igg_myeloma": 0.0 if p.isotype == "IgG" else 1.0})
        assert p.covariates()["non_igg_myeloma"] == cov["non_igg_myeloma"]
        seen.add(cov["non_igg_myeloma"])
    assert seen == {0.0, 1.0}


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"non_igg_myeloma": 1.0}, "sequence of one mapping"),
        ([{"non_igg_myeloma": 1.0}], "one entry per body"),
        ([{"non_igg_myeloma": float("nan")}, None], "finite number"),
        ([{"non_igg_myeloma": True}, None], "finite number"),
        (["IgA", None], "mapping or None"),
    ],
)
def test_bad_pk_covariates_are_one_line(bad, match):
    with pytest.raises(InvalidInputError, match=match) as e:
        simulate_cohort("isa_kd", [BODY, BODY], pk_covariates=bad, **KW)
    assert "\n" not in str(e.value)
