"""The closed-form PK engine takes a single kind of dose as views, not gathered copies
(``engine._every``; ``_int_phi_pair`` without a near-equal rate): the same bits as the masked
path. Differential: one dose alone against the same dose beside a dose of another kind given
after every sample time (its terms are exactly 0, so the masked path's sums are the single
dose's values)."""

from __future__ import annotations

import numpy as np
import pytest

from mmmech import pk
from mmmech.pk import engine

CASES = [
    ("bortezomib", {"bsa_m2": 1.8}, "sc", "iv_bolus"),
    ("bortezomib", {"bsa_m2": 1.8}, "iv_bolus", "sc"),
    ("dexamethasone", {"weight_kg": 70.0}, "oral", "iv_infusion"),
    ("dexamethasone", {"weight_kg": 70.0}, "iv_infusion", "oral"),
    ("lenalidomide", {}, "oral", "oral"),
]


@pytest.mark.parametrize("drug,cov,route,other", CASES)
def test_single_kind_views_equal_the_masked_path(drug, cov, route, other):
    m = pk.model(drug, **cov)
    disp, ab = m.disposition, dict(m.absorption)
    times = np.concatenate([[0.0], (np.arange(4000) + 0.5) * 0.25])
    one = [engine.Dose(0.0, 2.5, route, 1.0 if route == "iv_infusion" else 0.0)]
    late = engine.Dose(2000.0, 7.0, other, 1.0 if other == "iv_infusion" else 0.0)
    if other not in m.routes:
        pytest.skip(f"{drug} has no {other} route")
    two = [*one, late]
    c1 = engine.concentrations(disp, one, times, ab)
    c2 = engine.concentrations(disp, two, times, ab)
    a1 = engine.cumulative_auc(disp, one, times, ab)
    a2 = engine.cumulative_auc(disp, two, times, ab)
    assert np.array_equal(c1, c2)
    assert np.array_equal(a1, a2)
    assert c1.max() > 0 and a1[-1] > 0
