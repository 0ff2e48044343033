"""The compiled toxicity kernel (``mmmech._kernels._toxicity``) against its references
(differential): the kernel against ``_toxicity_ref`` (direct superposition of every dose's
closed form) on random doses, and the whole course with ``backend="cython"`` against the NumPy
path (``backend="python"``) over random patients and regimens: the same doses, grades and
actions, counts within 1e-12."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmmech import _kernels, pk, regimens
from mmmech._kernels import _toxicity_ref
from mmmech.exceptions import InvalidInputError
from mmmech.toxicity import _compiled, apply_dose_modifications, apply_dose_modifications_batch

pytestmark = pytest.mark.skipif(
    not _kernels.available("_toxicity"), reason="the _toxicity kernel was not built"
)

NPAR = 20


def _kernel():
    return _kernels.load("_toxicity")


def _case(seed, n_pat=4, m=12, n=30):
    """Random doses (on and off the grid, before and during the cycle, bolus and absorbed with
    lags) and terms of every kind for `n_pat` patients."""
    rng = np.random.default_rng(seed)
    c0 = float(rng.choice([0.0, 504.0, 1344.0]))
    h = 2.0
    fine = c0 + np.arange(n * m + 1) * (h / m)
    step = float((fine[-1] - fine[0]) / (fine.size - 1))
    dt, dmg, drt, idx, par, ptr = [], [], [], [], [], [0]
    for _ in range(n_pat):
        for _t in range(int(rng.integers(0, 4))):
            nd = int(rng.integers(0, 12))
            d0 = len(dt)
            times = np.sort(
                np.where(
                    rng.random(nd) < 0.6,
                    c0 + step * rng.integers(-900, n * m, nd),  # on the grid
                    c0 + rng.uniform(-150, n * h, nd),  # off the grid
                )
            )
            dt += times.tolist()
            dmg += rng.uniform(0.5, 30, nd).tolist()
            drt += rng.integers(0, 3, nd).tolist()
            row = np.zeros(NPAR)
            kind = int(rng.integers(0, 3))
            nexp = 1 if kind == 2 else int(rng.integers(1, 4))
            lam = np.sort(rng.uniform(0.005, 5.0, nexp))[::-1]
            row[0] = -np.inf if rng.random() < 0.5 else c0 - rng.uniform(0, 300)
            row[1] = rng.uniform(0.01, 2.0)
            row[2] = nexp
            row[3 : 3 + nexp] = lam
            row[7 : 7 + nexp] = lam if kind == 2 else rng.uniform(0.001, 0.1, nexp)
            row[14:17] = 1.0
            if kind != 2:
                for r in (1, 2):
                    row[11 + r] = rng.uniform(0.3, 7.0)
                    row[14 + r] = rng.uniform(0.4, 1.0)
                    row[17 + r] = rng.choice([0.0, rng.uniform(0, 1.0)])
            par.append(row)
            idx.append([d0, len(dt), kind])
        ptr.append(len(idx))
    a = np.asarray
    return dict(
        c0=c0,
        h=h,
        n=n,
        m=m,
        step=step,
        dose_t=a(dt, float),
        dose_mg=a(dmg, float),
        dose_route=a(drt, np.intp),
        term_ptr=a(ptr, np.intp),
        term_idx=a(idx, np.intp).reshape(-1, 3),
        term_par=a(par, float).reshape(-1, NPAR),
        rng=rng,
    )


def _run_both(func, case, extra):
    out = {}
    for name, mod in (("kernel", _kernel()), ("ref", _toxicity_ref)):
        state = extra["state"].copy()
        res = np.full((state.shape[0], case["n"] + 1), np.nan)
        args = [case[k] for k in ("c0", "h", "n", "m", "step", "dose_t", "dose_mg")]
        args += [case[k] for k in ("dose_route", "term_ptr", "term_idx", "term_par")]
        getattr(mod, func)(*args, *extra["params"], state, res, 1)
        out[name] = (res, state)
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_friberg_kernel_equals_the_direct_reference(seed):
    case = _case(seed)
    rng = case["rng"]
    P = len(case["term_ptr"]) - 1
    base = rng.uniform(1.0, 8.0, P)
    state = np.repeat(base[:, None], 5, axis=1) * rng.uniform(0.5, 1.5, (P, 5))
    params = [rng.uniform(0.2, 5.0, P), 4.0 / 84.18, 0.1445, base]
    out = _run_both("friberg_cycle", case, {"state": state, "params": params})
    (ra, sa), (rb, sb) = out["kernel"], out["ref"]
    assert np.all(np.isfinite(ra))
    np.testing.assert_allclose(ra, rb, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(sa, sb, rtol=1e-12, atol=1e-13)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_platelet_kernel_equals_the_direct_reference(seed):
    case = _case(seed)
    rng = case["rng"]
    P = len(case["term_ptr"]) - 1
    state = np.tile([0.99, 0.98, 0.97, 0.95, 0.0], (P, 1)) * rng.uniform(0.3, 1.2, (P, 5))
    state[:, 4] = rng.uniform(0, 1e4, P)
    params = [rng.uniform(0.2, 3.0, P), rng.uniform(0, 1e-6, P), 0.0408, 0.0404]
    out = _run_both("platelet_cycle", case, {"state": state, "params": params})
    (ra, sa), (rb, sb) = out["kernel"], out["ref"]
    assert np.all(np.isfinite(ra))
    np.testing.assert_allclose(ra, rb, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(sa, sb, rtol=1e-12, atol=1e-13)


def test_kernel_refuses_a_bad_substep_count():
    case = _case(1)
    P = len(case["term_ptr"]) - 1
    for mod in (_kernel(), _toxicity_ref):
        with pytest.raises(ValueError, match="m must be"):
            mod.friberg_cycle(
                0.0, 2.0, 3, 7, 2.0 / 7, case["dose_t"], case["dose_mg"], case["dose_route"],
                case["term_ptr"], case["term_idx"], case["term_par"], np.ones(P), 0.05, 0.14,
                np.ones(P), np.ones((P, 5)), np.zeros((P, 4)),
            )  # fmt: skip


#: varied patients (renal tiers, baselines, sensitivities, platelet counts, neuropathy)
def _patients(seed, n):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        health = {"crcl_ml_min": float(rng.choice([15.0, 25.0, 45.0, 70.0, 95.0]))}
        if rng.random() < 0.5:
            health["anc_10e9_L"] = float(rng.uniform(1.2, 6.0))
        if rng.random() < 0.5:
            health["platelets_10e9_L"] = float(rng.uniform(60.0, 350.0))
        health["neuropathy_grade"] = int(rng.choice([0, 0, 0, 1, 2]))
        out.append(
            (
                {"bsa_m2": float(rng.uniform(1.4, 2.3)), "weight_kg": float(rng.uniform(45, 110))},
                health,
                {
                    "neutrophil_sensitivity": float(np.exp(rng.normal(0, 0.8))),
                    "platelet_sensitivity": float(np.exp(rng.normal(0, 0.8))),
                    "platelet_eta": float(rng.normal()),
                    "neuropathy_z": float(rng.normal()),
                },
            )
        )
    return out


def _compare(a, b):
    """Two course results: identical doses, cycles and actions; counts within 1e-12."""
    worst = 0.0
    for (ga, ca), (gb, cb) in zip(a, b, strict=True):
        assert ga == gb
        assert ca.cycles == cb.cycles
        assert ca.actions == cb.actions
        for x, y in ((ca.anc, cb.anc), (ca.platelets, cb.platelets)):
            assert x.shape == y.shape
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)
            if x.size:
                worst = max(worst, float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1.0))))
        np.testing.assert_array_equal(ca.times_day, cb.times_day)
        np.testing.assert_array_equal(ca.platelet_times_day, cb.platelet_times_day)
    return worst


@pytest.mark.parametrize("reg, cycles", [("vrd", 10), ("rd", 6), ("vd", 4), ("ird", 5)])
def test_batch_course_with_the_kernel_equals_the_numpy_path(reg, cycles):
    drugs = regimens.load(reg).drugs
    pts = _patients(hash(reg) % 1000, 8)
    kws = [p[2] for p in pts]
    common = dict(
        pk_etas=[pk.patient_etas("ndmm", j, 3, drugs) for j in range(len(pts))],
        **{k: [kw[k] for kw in kws] for k in kws[0]},
    )
    runs = {
        be: apply_dose_modifications_batch(
            reg, cycles, [p[0] for p in pts], [p[1] for p in pts], backend=be, **common
        )
        for be in ("cython", "python")
    }
    assert _compare(runs["cython"], runs["python"]) < 1e-12
    # the rules fired for some patients (the comparison covers holds and reductions)
    if reg in ("vrd", "rd"):
        assert any(c.actions for _, c in runs["python"])


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    reg=st.sampled_from(["rd", "vd", "ird", "vrd"]),
    cycles=st.integers(1, 4),
)
def test_one_patient_with_the_kernel_equals_the_numpy_path(seed, reg, cycles):
    body, health, kw = _patients(seed, 1)[0]
    etas = pk.patient_etas("ndmm", seed, 1, regimens.load(reg).drugs)
    a = apply_dose_modifications(reg, cycles, body, health, pk_etas=etas, backend="cython", **kw)
    b = apply_dose_modifications(reg, cycles, body, health, pk_etas=etas, backend="python", **kw)
    assert _compare([a], [b]) < 1e-12


def test_regimen_without_a_count_model_is_the_same_on_both_paths():
    """No modelled drug: the kernel integrates nothing and the courses match."""
    a = apply_dose_modifications("kd", 2, {"bsa_m2": 1.8, "weight_kg": 70}, backend="cython")
    b = apply_dose_modifications("kd", 2, {"bsa_m2": 1.8, "weight_kg": 70}, backend="python")
    assert _compare([a], [b]) == 0.0


def test_unknown_backend_is_one_line_error():
    with pytest.raises(InvalidInputError, match="backend must be one of"):
        apply_dose_modifications("rd", 1, backend="cuda")
    with pytest.raises(InvalidInputError, match="backend must be one of"):
        apply_dose_modifications_batch("rd", 1, [None], [None], backend="numpy")


def test_a_model_the_kernel_cannot_take_keeps_the_numpy_path():
    """Saturable elimination, an infusion or ka next to a disposition rate: no kernel row."""
    m = pk.model("lenalidomide")
    assert _compiled._pk_row(m, {"oral"}) is not None
    assert _compiled._pk_row(m, {"iv_infusion"}) is None
    lam = float(pk.exponentials(m.disposition)[0][0])
    near = m.__class__(
        **{
            **{f: getattr(m, f) for f in m.__dataclass_fields__},
            "absorption": {"oral": type(m.absorption["oral"])(ka=lam * (1 + 1e-9))},
        }
    )
    assert _compiled._pk_row(near, {"oral"}) is None
