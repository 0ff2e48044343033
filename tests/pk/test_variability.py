"""Between-patient PK variability (mmmech.pk.variability): etas from the sources' CV%."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech import pk
from mmmech.exceptions import MmmechError, ModelFileError

N = 2000


def _cv(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1) / np.mean(x))


@pytest.mark.parametrize("drug", ["lenalidomide", "bortezomib", "pomalidomide"])
def test_sampled_clearance_has_the_source_cv(drug):
    """CL across 2,000 patients has the CV% the source reports, within sampling error (4
    bootstrap standard errors of the sample CV); log-normal: omega^2 = ln(1 + CV^2)."""
    m = pk.model(drug)
    cv = m.parameters["cl"].cv_percent / 100
    cl = np.array(
        [
            pk.with_etas(m, pk.patient_etas("ndmm", i, 3, [drug])[drug]).disposition.cl
            for i in range(N)
        ]
    )
    got = _cv(cl)
    rng = np.random.default_rng(0)
    boot = [_cv(cl[rng.integers(0, N, N)]) for _ in range(200)]
    se = float(np.std(boot))
    assert abs(got - cv) < 4 * se, (got, cv, se)
    # the log-scale SD is omega (its standard error is omega / sqrt(2 (N - 1)))
    om = math.sqrt(math.log1p(cv**2))
    sd = float(np.std(np.log(cl / m.disposition.cl), ddof=1))
    assert abs(sd - om) < 4 * om / math.sqrt(2 * (N - 1))
    # the typical value is the median
    assert abs(float(np.median(np.log(cl / m.disposition.cl)))) < 4 * 1.2533 * om / math.sqrt(N)


def test_etas_are_keyed_per_patient_and_drug():
    a = pk.patient_etas("ndmm", 7, 1, ["lenalidomide"])
    b = pk.patient_etas("ndmm", 7, 1, ["bortezomib", "lenalidomide", "dexamethasone", "nope"])
    assert a["lenalidomide"] == b["lenalidomide"]  # other drugs of the arm do not matter
    assert set(b) == {"bortezomib", "lenalidomide", "dexamethasone"}  # no model: left out
    assert pk.patient_etas("ndmm", 7, 1, ["lenalidomide"]) == a  # every run
    assert pk.patient_etas("ndmm", 8, 1, ["lenalidomide"]) != a
    assert pk.patient_etas("ndmm", 7, 2, ["lenalidomide"]) != a
    assert pk.patient_etas("rrmm", 7, 1, ["lenalidomide"]) != a
    # parameters without a reported CV have no eta (lenalidomide's ka was fixed in the source)
    assert set(a["lenalidomide"]) == {"cl", "v1"}


def test_etas_are_independent_without_a_reported_correlation():
    e = [pk.patient_etas("ndmm", i, 5, ["lenalidomide"])["lenalidomide"] for i in range(N)]
    r = np.corrcoef([x["cl"] for x in e], [x["v1"] for x in e])[0, 1]
    assert abs(r) < 4 / math.sqrt(N)
    assert np.array_equal(pk.correlations("lenalidomide"), np.eye(2))


_TOML = """
[[drug]]
name = "testdrug"
compartments = 1
routes = ["iv_bolus"]
population = "p"
disease = "d"
n_subjects = 10
source = "PMID:1"
verified = false
[drug.parameters]
cl = { value = 5, unit = "L/h", cv_percent = 40 }
v1 = { value = 50, unit = "L", cv_percent = 30 }
[[drug.eta_correlation]]
a = "cl"
b = "v1"
r = R
source = "PMID:1"
"""


def test_a_reported_correlation_is_sampled():
    m = pk.read_models(_TOML.replace("R", "0.6"))["testdrug"]
    assert m.eta_correlations == (("cl", "v1", 0.6),)
    rng = np.random.default_rng(1)
    e = [pk.sample_etas(m, rng) for _ in range(N)]
    r = np.corrcoef([x["cl"] for x in e], [x["v1"] for x in e])[0, 1]
    # SE of a correlation coefficient about (1 - r^2) / sqrt(N)
    assert abs(r - 0.6) < 4 * (1 - 0.36) / math.sqrt(N)
    with pytest.raises(ModelFileError, match=r"eta_correlation 1: r must be in \(-1, 1\)"):
        pk.read_models(_TOML.replace("R", "1.5"))
    with pytest.raises(ModelFileError, match="'cl2' is not a parameter with a cv_percent"):
        pk.read_models(_TOML.replace("R", "0.5").replace('a = "cl"', 'a = "cl2"'))


def test_with_etas_zero_is_the_model_and_caps_bioavailability():
    m = pk.model("ixazomib")
    z = pk.with_etas(m, dict.fromkeys(pk.omegas(m), 0.0))
    assert z.disposition == m.disposition and dict(z.absorption) == dict(m.absorption)
    hi = pk.with_etas(m, {"f_oral": 3.0})
    assert hi.absorption["oral"].f == 1.0 and hi.parameters["f_oral"].value == 1.0
    with pytest.raises(MmmechError, match="has no parameter 'zz'"):
        pk.with_etas(m, {"zz": 0.1})


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(["lenalidomide", "bortezomib", "pomalidomide", "dexamethasone"]),
    st.floats(-1.5, 1.5),
    st.floats(0.01, 1.0),
)
def test_higher_clearance_never_gives_higher_auc(drug, eta, step):
    m = pk.model(drug)
    route = pk.model(drug).routes[0]
    doses = [(24.0 * d, 10.0, route) for d in range(7)]
    lo = pk.with_etas(m, {"cl": eta})
    hi = pk.with_etas(m, {"cl": eta + step})
    a_lo = pk.auc(lo, doses, 0.0, 24.0 * 14)
    a_hi = pk.auc(hi, doses, 0.0, 24.0 * 14)
    assert a_hi <= a_lo * (1 + 1e-12)
