"""Bortezomib's blood proteasome inhibition in patients against the model's PSMB5 occupancy.

Round 9 (btzpd, issues 16/17). Mapping: the published readout is the chymotrypsin-like (beta5)
activity of the 20S proteasome in whole blood or PBMC lysates, as percent inhibition against
the patient's own pre-dose activity; the model's counterpart is the PSMB5 occupancy driven by
the plasma concentration (binding kinetics of ``structures/drugs.toml``, PK of
``structures/pk.toml`` at 1.8 m2), i.e. inhibition = occupancy. Blood cells see the plasma
concentration; a myeloma cell in the marrow is assumed to see the same.

The check asks whether the model's occupancy is *lower or shorter* than in patients (the
suspected cause of the weak bortezomib arms). It is not: at every published time and dose it
is as high as or higher than the data (docs/dynamics.md, "Bortezomib in patients").
"""

from __future__ import annotations

import numpy as np
import pytest

from mmmech import drugs, pk
from mmmech.dynamics import kinetics as kn

BSA = 1.8  # adult reference body-surface area (m2), as the other PD checks
DT = 1 / 60  # 1-min grid


def _psmb5():
    return next(t for t in drugs.get("bortezomib").targets if t.target == "PSMB5")


def _course(doses, hours):
    """PSMB5 occupancy at the end of each 1-min interval (exact interval-mean PK input)."""
    m = pk.model("bortezomib", bsa_m2=BSA)
    edges = np.arange(0.0, hours + DT / 2, DT)
    c = kn.interval_means(m, doses, edges)
    t = _psmb5()
    (kc,) = kn.kinetic_columns(
        [{"drug": "bortezomib", "target": "PSMB5", "node": "PSMB5", "K": t.potency_nM, "hill": 1.0}]
    )
    end, _ = kn.occupancy_course(c, DT, kc.K, t.kinetics.half_life_h, kc.hill)
    return edges[1:], end


def _at(t, th, hour):
    return float(th[int(np.argmin(np.abs(t - hour)))])


@pytest.mark.parametrize(
    ("dose_mg_m2", "pbmc_inhibition"), [(0.5, 0.36), (0.9, 0.52), (1.25, 0.75)]
)
def test_inhibition_after_one_iv_dose_is_not_below_the_phase1_pbmc_data(
    dose_mg_m2, pbmc_inhibition
):
    """PMID:15867242 (Clin Cancer Res 2005;11:3410, phase I, advanced cancer, twice weekly;
    abstract at pubmed.gov): "reversible dose-dependent decreases in 20S proteasome activity in
    PBMCs ... 36% inhibition at 0.5 mg/m2, 52% at 0.9 mg/m2, and 75% at 1.25 mg/m2" (sampling
    time not in the abstract; read here at 1 h, where the Oncology 2004 review puts the maximum).
    The model is not lower (tolerance 0.10, a convention); it is higher at the low doses (0.65
    against 0.36 at 0.5 mg/m2), so if anything its blood potency is too high, not too low."""
    t, th = _course([(0.0, dose_mg_m2 * BSA, "iv_bolus")], 2.0)
    assert _at(t, th, 1.0) >= pbmc_inhibition - 0.10


def test_inhibition_rises_with_dose_and_matches_at_the_clinical_dose():
    """Same source: dose-dependent; at 1.25 mg/m2 the model's 1-h occupancy is within 0.10 of
    the published 75% (model 0.81)."""
    at1 = []
    for dose in (0.5, 0.9, 1.25):
        t, th = _course([(0.0, dose * BSA, "iv_bolus")], 2.0)
        at1.append(_at(t, th, 1.0))
    assert at1 == sorted(at1) and at1[0] < at1[-1]
    assert abs(at1[-1] - 0.75) <= 0.10


def test_repeat_doses_of_a_cycle_inhibit_as_much_or_more_than_the_first():
    """ASH 2006 abstract 3533 (Blood 108(11):3533, DOI:10.1182/blood.V108.11.3533.3533; read at
    ashpublications.net; 24 relapsed MM patients, 1.0 or 1.3 mg/m2 days 1, 4, 8, 11): "after
    single or repeat administration, mean maximum percent inhibition of 20S proteasome activity
    (vs baseline) in whole blood was 70-84% and 73-83% for the 1.0 and 1.3 mg/m2 doses"; "the
    percentage of pts who had >90% inhibition was greater in subsequent doses vs first dose".
    Velcade label 12.2: the maximum is seen 5 min after the dose. The model at 5 min: 0.83 on
    day 1, rising to 0.87 on day 11 (4 points above the reported range; tolerance 0.07)."""
    days = (0, 3, 7, 10)
    t, th = _course([(24.0 * d, 1.3 * BSA, "iv_bolus") for d in days], 24.0 * 10 + 2.0)
    five = [_at(t, th, 24.0 * d + 5 / 60) for d in days]
    assert 0.73 <= five[0] <= 0.83
    assert all(later > five[0] for later in five[1:])
    assert max(five) <= 0.83 + 0.07


def test_subcutaneous_and_intravenous_inhibition_are_similar_overall():
    """Moreau et al. 2008 (PMID:18768528, Haematologica 93:1908; abstract at pubmed.gov; 1.3
    mg/m2 days 1, 4, 8, 11, SC n = 12 vs IV n = 12, 20S inhibition measured on days 1 and 11):
    "Overall 20S proteasome inhibition was similar between arms"; the SC maximum is lower and
    later (tested in test_kinetics). Here "overall" is read as the mean occupancy over the 72 h
    after a dose and over the cycle: within 15% of each other (model: +6% and +4% for SC)."""
    single = {}
    cycle = {}
    for route in ("iv_bolus", "sc"):
        _, th = _course([(0.0, 1.3 * BSA, route)], 72.0)
        single[route] = th.mean()
        _, th = _course([(24.0 * d, 1.3 * BSA, route) for d in (0, 3, 7, 10)], 21 * 24.0)
        cycle[route] = th.mean()
    assert single["sc"] == pytest.approx(single["iv_bolus"], rel=0.15)
    assert cycle["sc"] == pytest.approx(cycle["iv_bolus"], rel=0.15)
