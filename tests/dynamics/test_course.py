"""The network course (one Rosenbrock kernel call for all steps) against the former path (one
Dormand-Prince call per step, rtol 1e-6) inside simulate_regimens.

Stated tolerance: with the course kernel's rtol 3e-4 / atol 3e-7 the M-protein stays within
1e-3 g/dL of the former path (measured over 8 cycles of all 27 bundled regimens: 2.3e-4 g/dL,
1e-4 relative) and best response and time to progression are identical. The same holds for the
explicit method ``expdp5`` at its rtol 1e-5 / atol 1e-8, which also stays within 2.3e-4 g/dL of
RODAS4 on these six regimens (all 39 bundled ones: 3.8e-4, cilta-cel, where RODAS4 itself is
2.3e-4 from an rtol 1e-8 run) with the same best responses and times to progression
(docs/dynamics.md, round 8).
"""

from __future__ import annotations

import numpy as np
import pytest

from mmmech import dynamics
from mmmech.dynamics import _course
from mmmech.dynamics import regimen as rg
from mmmech.simulation import propagate


def _former_network_course(cm, fixed_mask, fixed_value, y0, cols, values, dt, out_nodes, **kw):
    """What simulate_regimens did before the course kernel: one adaptive Dormand-Prince call
    (rtol 1e-6, atol 1e-9) per step, the state carried over."""
    value = np.array(fixed_value, dtype=float, copy=True)
    y = np.ascontiguousarray(y0, dtype=float)
    outn = np.asarray(out_nodes)
    R, K, _ = np.shape(values)
    out = np.empty((R, K + 1, outn.size))
    out[:, 0] = y[:, outn]
    ok = np.ones(R, dtype=bool)
    for k in range(K):
        value[:, cols] = values[:, k]
        o, good = propagate.time_course(
            cm, [dt], fixed_mask, value, y0=y, backend=kw.get("backend", "auto")
        )
        y = np.ascontiguousarray(np.asarray(o)[:, -1, :])
        ok &= np.asarray(good, dtype=bool)
        out[:, k + 1] = y[:, outn]
    return out, y, ok, np.zeros(R, dtype=np.int64)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["rodas4", "expdp5"])
def test_course_kernel_agrees_with_the_former_path(monkeypatch, method):
    # 4 cycles (8 until round 9): the former path is explicit, and since the proteasome-activity
    # nodes' tau became 1 min its steps are 60 times shorter
    names = ["vrd", "kd", "ird", "vd", "rd", "dara_rd"]
    monkeypatch.setattr(_course, "COURSE_METHOD", method)
    new = dynamics.simulate_regimens(names, cycles=4)
    monkeypatch.setattr(rg, "network_course", _former_network_course)
    old = dynamics.simulate_regimens(names, cycles=4)
    for a, b in zip(new, old, strict=True):
        ma = a.timecourse["m_protein_g_per_dL"].to_numpy()
        mb = b.timecourse["m_protein_g_per_dL"].to_numpy()
        assert np.abs(ma - mb).max() < 1e-3, a.regimen
        assert a.best_response == b.best_response, a.regimen
        assert a.time_to_progression_days == b.time_to_progression_days, a.regimen
        # the readouts and key nodes agree to the tolerance's order
        for col in [c for c in a.timecourse.columns if c.startswith("node_")]:
            d = np.abs(a.timecourse[col].to_numpy() - b.timecourse[col].to_numpy()).max()
            assert d < 2e-3, (a.regimen, col, d)


def test_the_backends_agree_in_a_regimen():
    """simulate_regimen with the NumPy reference of the course kernel equals the Cython one
    (one cycle of Vd, 12-h steps)."""
    from mmmech import _kernels

    if not _kernels.available("_rosenbrock"):
        pytest.skip("kernels not built")
    a = dynamics.simulate_regimen("vd", cycles=1, step_hours=12, backend="cython")
    b = dynamics.simulate_regimen("vd", cycles=1, step_hours=12, backend="python")
    np.testing.assert_allclose(
        a.timecourse["m_protein_g_per_dL"], b.timecourse["m_protein_g_per_dL"], atol=1e-12
    )


@pytest.mark.slow
def test_expdp5_agrees_with_rodas4_in_regimens(monkeypatch):
    """The explicit method against RODAS4 (today's numbers) over 8 cycles: M-protein within
    2.3e-4 g/dL, the same best responses and times to progression."""
    names = ["vrd", "kd", "ird", "vd", "rd", "dara_rd"]
    a = dynamics.simulate_regimens(names, cycles=8)
    monkeypatch.setattr(_course, "COURSE_METHOD", "expdp5")
    b = dynamics.simulate_regimens(names, cycles=8)
    for x, y in zip(a, b, strict=True):
        mx = x.timecourse["m_protein_g_per_dL"].to_numpy()
        my = y.timecourse["m_protein_g_per_dL"].to_numpy()
        assert np.abs(mx - my).max() < 2.3e-4, x.regimen
        assert x.best_response == y.best_response, x.regimen
        ta, tb = x.time_to_progression_days, y.time_to_progression_days
        assert ta == tb or (np.isnan(ta) and np.isnan(tb)), x.regimen


def test_the_backends_agree_with_expdp5(monkeypatch):
    """As above with the explicit method."""
    from mmmech import _kernels

    if not _kernels.available("_rosenbrock"):
        pytest.skip("kernels not built")
    monkeypatch.setattr(_course, "COURSE_METHOD", "expdp5")
    a = dynamics.simulate_regimen("vd", cycles=1, step_hours=12, backend="cython")
    b = dynamics.simulate_regimen("vd", cycles=1, step_hours=12, backend="python")
    np.testing.assert_allclose(
        a.timecourse["m_protein_g_per_dL"], b.timecourse["m_protein_g_per_dL"], atol=1e-12
    )


def test_course_settings_are_the_documented_ones():
    assert (_course.COURSE_RTOL, _course.COURSE_ATOL) == (3e-4, 3e-7)
    assert _course.COURSE_JUMP_STEP is True and _course.FREEZE_RATE == 1e-3
    assert _course.COURSE_METHOD_RTOL == {"rodas4": (3e-4, 3e-7), "expdp5": (1e-5, 1e-8)}
