"""Every compiled kernel has a NumPy reference beside it with the same signature, typed stubs
and shipped headers (issue 12): differential tests and signature checks."""

import ast
import inspect
import pathlib

import numpy as np
import pytest

from mmmech import _kernels

KDIR = pathlib.Path(_kernels.__file__).parent
KERNELS = ["_logic", "_linear", "_occupancy", "_synergy_lm", "_toxicity", "_tumour"]


def _lm_case(seed, B=60, N=9):
    """B noisy four-parameter log-logistic curves, starts off the truth, some E0 fixed, some
    padded points (weight 0) and some parameters starting on a bound."""
    rng = np.random.default_rng(seed)
    u = np.sort(rng.uniform(-4, 4, (B, N)), axis=1)
    u[:, 0] = -30.0  # dose 0
    e0 = rng.uniform(-5, 5, B)
    einf = rng.uniform(40, 100, B)
    c = rng.uniform(-2, 2, B)
    lh = np.log(rng.uniform(0.5, 3, B))
    s = 1 / (1 + np.exp(-np.exp(lh)[:, None] * (u - c[:, None])))
    y = e0[:, None] + (einf - e0)[:, None] * s + rng.normal(0, 3, (B, N))
    w = np.ones((B, N))
    w[rng.random((B, N)) < 0.1] = 0.0
    lo = np.tile([-50.0, -50.0, -8.0, np.log(0.05)], (B, 1))
    hi = np.tile([150.0, 150.0, 8.0, np.log(20.0)], (B, 1))
    p = np.stack([e0, einf, c, lh], axis=1) + rng.normal(0, [5, 10, 1, 0.4], (B, 4))
    p[::7, 2] = hi[::7, 2]  # on a bound
    p = np.clip(p, lo, hi)
    free = np.ones((B, 4), dtype=np.uint8)
    free[::5, 0] = 0  # E0 held
    span = np.ptp(y, axis=1) + 1e-12
    return u, y, w, p, lo, hi, free, span


@pytest.mark.skipif(not _kernels.available("_synergy_lm"), reason="kernel not built")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synergy_lm_reference_equals_kernel(seed):
    from mmmech._kernels import _synergy_lm, _synergy_lm_ref
    from mmmech.synergy._fit import FTOL, XTOL

    u, y, w, p, lo, hi, free, span = _lm_case(seed)
    out = {}
    for name, mod in (("kernel", _synergy_lm), ("ref", _synergy_lm_ref)):
        pp = p.copy()
        sse = np.full(len(u), np.nan)
        iters = np.full(len(u), -1, dtype=np.int32)
        mod.lm_fit(u, y, w, pp, lo, hi, free, span, 200, FTOL, XTOL, sse, iters)
        out[name] = (pp, sse, iters)
    (pk, sk, ik), (pr, sr, ir) = out["kernel"], out["ref"]
    assert np.all(np.isfinite(sk)) and np.all(ik > 0)
    start = np.sum(
        w
        * (
            y
            - (
                p[:, :1]
                + (p[:, 1:2] - p[:, :1]) / (1 + np.exp(-np.exp(p[:, 3:]) * (u - p[:, 2:3])))
            )
        )
        ** 2,
        axis=1,
    )
    assert np.all(sk <= start + 1e-9)  # LM never makes a fit worse
    # curves that stopped by the convergence test (not by max_iter, where an ill-posed fit,
    # e.g. a Hill slope on its bound, wanders and rounding decides the path) agree closely
    done = (ik < 200) & (ir < 200)
    assert done.mean() > 0.8
    np.testing.assert_allclose(sr[done], sk[done], rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(pr[done], pk[done], rtol=1e-4, atol=1e-4)
    assert np.mean(ir[done] == ik[done]) >= 0.9  # same path, up to rounding at the stop
    np.testing.assert_allclose(sr, sk, rtol=1e-2)
    held = free == 0
    np.testing.assert_array_equal(pk[held], p[held])  # fixed parameters stay put
    np.testing.assert_array_equal(pr[held], p[held])
    assert np.all((pr >= lo) & (pr <= hi))


def test_synergy_lm_reference_skips_non_finite_starts():
    from mmmech._kernels import _synergy_lm_ref

    u, y, w, p, lo, hi, free, span = _lm_case(3, B=4)
    y[1, 2] = np.nan
    p0 = p.copy()
    sse = np.zeros(4)
    iters = np.zeros(4, dtype=np.int32)
    _synergy_lm_ref.lm_fit(u, y, w, p, lo, hi, free, span, 50, 1e-10, 1e-9, sse, iters)
    assert sse[1] == np.inf and iters[1] == 0
    np.testing.assert_array_equal(p[1], p0[1])
    assert np.all(np.isfinite(sse[[0, 2, 3]]))


@pytest.mark.skipif(not _kernels.available("_synergy_lm"), reason="kernel not built")
def test_fit_batch_gives_the_same_curves_with_the_new_reference(monkeypatch):
    """The public curve fit lands on the same optimum when the new reference stands in for
    the kernel (the reference is a drop-in replacement)."""
    from mmmech._kernels import _synergy_lm_ref
    from mmmech.synergy import _fit as _synergy_fit

    rng = np.random.default_rng(5)
    dose = np.tile(np.array([0, 1, 3, 10, 30, 100, 300, 1000.0]), (20, 1))
    ec = rng.uniform(5, 200, (20, 1))
    y = 100 / (1 + (ec / np.maximum(dose, 1e-12))) + rng.normal(0, 2, dose.shape)
    a = _synergy_fit.fit_batch(dose, y, backend="cython")

    class _Fake:
        lm_fit = staticmethod(_synergy_lm_ref.lm_fit)

    monkeypatch.setattr(_synergy_fit._kernels, "load", lambda name: _Fake)
    b = _synergy_fit.fit_batch(dose, y, backend="cython")
    for field in ("e0", "einf", "ec50", "hill"):
        np.testing.assert_allclose(getattr(b, field), getattr(a, field), rtol=1e-4, atol=1e-4)


def _stub_functions(name):
    tree = ast.parse((KDIR / f"{name}.pyi").read_text())
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("name", KERNELS)
def test_every_kernel_has_a_reference_and_a_stub(name):
    assert (KDIR / f"{name}_ref.py").is_file()
    assert (KDIR / f"{name}.pyi").is_file()
    assert (KDIR.parent / "py.typed").is_file()


@pytest.mark.parametrize("name", KERNELS)
def test_stubs_match_the_compiled_signatures(name):
    if not _kernels.available(name):
        pytest.skip("kernel not built")
    mod = _kernels.load(name)
    stubs = _stub_functions(name)
    public = [n for n in dir(mod) if not n.startswith("_") and inspect.isroutine(getattr(mod, n))]
    assert sorted(stubs) == sorted(public)
    for fname, node in stubs.items():
        real = list(inspect.signature(getattr(mod, fname)).parameters)
        assert [a.arg for a in node.args.args] == real, fname
        assert node.returns is not None and all(a.annotation is not None for a in node.args.args), (
            fname
        )


@pytest.mark.parametrize(
    "name, fname",
    [
        ("_occupancy", "occupancy"),
        ("_synergy_lm", "lm_fit"),
        ("_linear", "diffuse"),
        ("_logic", "steady_state"),
        ("_logic", "time_course"),
        ("_logic", "rk4_fixed"),
        ("_toxicity", "friberg_cycle"),
        ("_toxicity", "platelet_cycle"),
        ("_tumour", "rates"),
        ("_tumour", "integrate"),
        ("_tumour", "classify"),
    ],
)
def test_reference_has_the_kernel_signature(name, fname):
    if not _kernels.available(name):
        pytest.skip("kernel not built")
    import importlib

    ref = importlib.import_module(f"mmmech._kernels.{name}_ref")
    mod = _kernels.load(name)
    a = inspect.signature(getattr(ref, fname)).parameters
    b = inspect.signature(getattr(mod, fname)).parameters
    assert list(a) == list(b)
    assert [p.default for p in a.values()] == [p.default for p in b.values()]


@pytest.mark.skipif(not _kernels.available("_logic"), reason="kernel not built")
def test_logic_reference_is_a_drop_in_for_the_kernel():
    """Same call, same answer: the kernel and the reference called identically."""
    from mmmech._kernels import _logic, _logic_ref
    from mmmech.simulation import propagate
    from mmmech.testing import random_logic_model, random_regimens

    cm = random_logic_model(25, n_inputs=3, seed=7)
    mask, value = random_regimens(cm, 20, p_fixed=0.2, seed=8)
    reg = propagate._prepare(cm, mask, value, None, None, None, None, "t")
    a = _logic.steady_state(cm, reg, 1e-6, 1e-6, 1e-9, 3000)
    b = _logic_ref.steady_state(cm, reg, 1e-6, 1e-6, 1e-9, 3000)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])
    np.testing.assert_allclose(a[0], b[0], atol=1e-6)
    ya, oka = _logic.time_course(cm, reg, [0.5, 2.0], 1e-6, 1e-9, 10000)
    yb, okb = _logic_ref.time_course(cm, reg, [0.5, 2.0], 1e-6, 1e-9, 10000)
    np.testing.assert_array_equal(oka, okb)
    np.testing.assert_allclose(ya, yb, atol=1e-6)
    np.testing.assert_allclose(
        _logic.rk4_fixed(cm, reg, 0.05, 40), _logic_ref.rk4_fixed(cm, reg, 0.05, 40), atol=1e-9
    )


def test_logic_reference_reports_progress():
    from mmmech._kernels import _logic_ref
    from mmmech.simulation import propagate
    from mmmech.testing import random_logic_model

    cm = random_logic_model(25, n_inputs=3, seed=7)
    reg = propagate._prepare(cm, None, None, None, None, None, 5, "t")
    calls = []
    _logic_ref.steady_state(
        cm, reg, 1e-6, 1e-6, 1e-9, 3000, progress=lambda *a: calls.append(a), progress_interval=0.0
    )
    assert calls and all(c[1] == 5 and 0 <= c[0] <= 5 for c in calls)


def test_logic_helpers_live_in_a_shipped_header():
    """The C helpers are a header beside the .pyx (no C source in strings) and setup.py ships
    headers and stubs (package data: pyproject.toml)."""
    pyx = (KDIR / "_logic.pyx").read_text()
    assert 'cdef extern from "_logic_helpers.h"' in pyx
    assert "cdef extern from *" not in pyx
    hdr = (KDIR / "_logic_helpers.h").read_text()
    assert '#include "_kernel_common.h"' in hdr
    hdr += (KDIR / "_kernel_common.h").read_text()
    for fn in ("mm_hill", "mm_rules", "mm_stage", "mm_error", "mm_fetch_add", "mm_now"):
        assert f" {fn}(" in hdr
    project = KDIR.parent.parent / "pyproject.toml"
    if project.is_file():
        import tomllib

        data = tomllib.loads(project.read_text())["tool"]["setuptools"]["package-data"]
        assert {"*.h", "*.pyi"} <= set(data["mmmech._kernels"])
        assert "py.typed" in data["mmmech"]
