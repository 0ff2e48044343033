"""simulate_cohort integrates rows with exactly the same network inputs once: the merged
patients get exactly the course each gets alone."""

import numpy as np

from mmmech.dynamics import _lanes, cohort
from mmmech.dynamics.cohort import simulate_cohort

B0 = {"weight_kg": 70.0, "bsa_m2": 1.8}
B1 = {"weight_kg": 105.0, "bsa_m2": 2.2}


def test_distinct_rows_merges_only_exact_copies():
    rng = np.random.default_rng(3)
    occ = rng.random((6, 5, 2))
    occ[2] = occ[0]
    occ[4] = occ[0]
    occ[5] = occ[1]
    occ[5, 4, 1] = np.nextafter(occ[5, 4, 1], 2.0)  # one ulp apart: not a copy
    spec = np.array([0, 0, 0, 1, 1, 0])
    reps, inverse = cohort._distinct_rows(spec, occ)
    fast = _lanes.distinct_rows(spec, occ)  # the chunk-wide version (round 11): the same
    assert fast[0].tolist() == reps.tolist() and fast[1].tolist() == inverse.tolist()
    # row 4 has row 0's occupancy but another untreated state (spec 1): its own row
    assert reps.tolist() == [0, 1, 3, 4, 5]
    assert inverse.tolist() == [0, 1, 0, 2, 3, 4]
    for r in range(6):
        assert spec[reps[inverse[r]]] == spec[r]
        np.testing.assert_array_equal(occ[reps[inverse[r]]], occ[r])


def test_repeated_patients_get_their_own_course(monkeypatch):
    calls = []
    orig = _lanes.distinct_rows

    def spy(spec, occ):
        out = orig(spec, occ)
        calls.append((len(spec), len(out[0])))
        return out

    monkeypatch.setattr(_lanes, "distinct_rows", spy)
    got = simulate_cohort("rd", [B0, B1, B0, B0, B1], cycles=1, step_hours=6)
    # Rd: flat doses; dexamethasone's PK reads weight (per-kg parameters of Brady 1986, round 7),
    # lenalidomide's reads neither weight nor BSA: one kernel row per distinct body, two for five
    assert calls == [(5, 2)]
    alone = [simulate_cohort("rd", [b], cycles=1, step_hours=6) for b in (B0, B1)]
    for r, j in enumerate([0, 1, 0, 0, 1]):
        np.testing.assert_array_equal(got.m_protein[r], alone[j].m_protein[0])
        np.testing.assert_array_equal(got.tumour_burden[r], alone[j].tumour_burden[0])
        assert got.best_response[r] == alone[j].best_response[0]
    assert got.ok.all()
    # bortezomib is dosed per m2: the two bodies differ, the copies still merge
    calls.clear()
    vrd = simulate_cohort("vrd", [B0, B1, B0], cycles=1, step_hours=6)
    assert calls == [(3, 2)]
    v1 = simulate_cohort("vrd", [B1], cycles=1, step_hours=6)
    np.testing.assert_array_equal(vrd.m_protein[1], v1.m_protein[0])
    np.testing.assert_array_equal(vrd.m_protein[0], vrd.m_protein[2])
    assert np.abs(vrd.m_protein[0] - vrd.m_protein[1]).max() > 0
