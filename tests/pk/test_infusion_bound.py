"""The bound behind the carfilzomib Cmax row (structures/pk.toml, docs/pk.md): for any linear
mammillary model with elimination from the central compartment, the concentration during and
after one constant-rate infusion of dose D over T never exceeds (D/T)/CL = AUC/T. So a published
mean Cmax and AUC after the same dose bound the infusion time: T <= AUC/Cmax (carfilzomib label:
0.379 mg*h/L / 4.232 mg/L = 5.4 min)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech.pk.engine import Disposition, Dose, concentrations, cumulative_auc

positive = st.floats(min_value=0.05, max_value=500.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    cl=positive,
    v1=positive,
    q=st.lists(positive, min_size=0, max_size=2),
    v=st.lists(positive, min_size=2, max_size=2),
    dose=st.floats(min_value=0.1, max_value=1000.0),
    duration=st.floats(min_value=0.01, max_value=24.0),
)
def test_infusion_peak_below_rate_over_clearance(cl, v1, q, v, dose, duration):
    disp = Disposition(cl, v1, tuple(q), tuple(v[: len(q)]))
    times = np.concatenate(
        [np.linspace(0.0, duration, 200), duration + np.geomspace(1e-3, 10 * duration, 200)]
    )
    c = concentrations(disp, [Dose(0.0, dose, "iv_infusion", duration)], times)
    assert c.max() <= dose / duration / cl * (1 + 1e-9)


def test_carfilzomib_label_means_bound_the_infusion_time():
    # With the label AUC (0.379 mg*h/L after 48.6 mg), the derived model's clearance: a 10-min
    # infusion cannot reach the label mean Cmax (4.232 mg/L) for any volumes; 5.4 min is the limit.
    cl = 48.6 / 0.379
    for v1 in (1.0, 3.0, 11.5, 108.0):
        disp = Disposition(cl, v1, (50.0,), (100.0,))
        c = concentrations(disp, [Dose(0.0, 48.6, "iv_infusion", 10 / 60)], np.array([10 / 60]))
        assert c[0] < 4.232
    auc = cumulative_auc(disp, [Dose(0.0, 48.6, "iv_infusion", 10 / 60)], np.array([1e4]))
    assert abs(auc[0] - 0.379) < 1e-6
    assert 0.379 / 4.232 * 60 < 5.4
