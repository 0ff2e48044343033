"""Batched linear PK courses on a grid (mmmech.pk.batch) against the per-patient engine."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech import _kernels
from mmmech import pk as _pk
from mmmech._kernels import _pkgrid_ref
from mmmech.dynamics.kinetics import interval_means
from mmmech.exceptions import InvalidInputError, MmmechError
from mmmech.pk import batch
from mmmech.pk.api import _mol_weight


def _covariates(m: _pk.PKModel, xs: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in xs.items() if k in {c.name for c in m.covariates if c.form != "note"}}


def _reference(m, route, days, amounts, T, dt, sample):
    doses = [((d - 1) * 24.0, a, route) for d, a in zip(days, amounts, strict=True)]
    if sample == "mid":
        t = (np.arange(T) + 0.5) * dt
        return np.asarray(_pk.concentration(m, doses, t, unit="nM"), dtype=float)
    # the cohort's per-patient path: the single-dose interval means shifted to every dose
    # (the means of all doses at once, from differences of the cumulative AUC, are themselves
    # off by up to ~1e-12 of the maximum late in a long course)
    unit = interval_means(m, [(0.0, 1.0, route)], np.arange(T + 1) * dt)
    out = np.zeros(T)
    for d, a in zip(days, amounts, strict=True):
        q = int(round((d - 1) * 24.0 / dt))
        if q < T:
            out[q:] += a * unit[: T - q]
    return out


def _exact(m, route, days, amounts, T, dt, sample):
    """The closed forms in long double (x87 80-bit), dose by dose: an independent reference
    (the engine's interval means come from differences of the cumulative AUC, whose rounding
    reaches ~1e-12 of the maximum late in a long course)."""
    L = np.longdouble
    lam, A = _pk.exponentials(m.disposition)
    lam, A = lam.astype(L), A.astype(L)
    unit = L(1e-3) / L(_mol_weight(m.drug)) * L(1e9)
    ab = m.absorption.get(route) if route != "iv_bolus" else None
    out = np.zeros(T, dtype=L)
    for d, a in zip(days, amounts, strict=True):
        t0 = L((d - 1) * 24.0)
        if sample == "mid":
            s = (np.arange(T, dtype=L) + L(0.5)) * L(dt) - t0
            on = s >= 0
            s = np.where(on, s, L(0))
            if ab is None:
                c = sum(A[i] * np.exp(-lam[i] * s) for i in range(lam.size))
            else:
                ka, F = L(ab.ka), L(ab.f)
                c = sum(
                    F * ka * A[i] * (np.exp(-lam[i] * s) - np.exp(-ka * s)) / (ka - lam[i])
                    for i in range(lam.size)
                )
        else:
            e = np.maximum(np.arange(T + 1, dtype=L) * L(dt) - t0, L(0))
            s0, s1 = e[:-1], e[1:]
            on = s1 > 0

            def integral(k, s0=s0, s1=s1):
                return (np.exp(-k * s0) - np.exp(-k * s1)) / k

            if ab is None:
                c = sum(A[i] * integral(lam[i]) for i in range(lam.size)) / L(dt)
            else:
                ka, F = L(ab.ka), L(ab.f)
                c = sum(
                    F * ka * A[i] * (integral(lam[i]) - integral(ka)) / (ka - lam[i])
                    for i in range(lam.size)
                ) / L(dt)
        out += np.where(on, L(a) * c * unit, L(0))
    return out


def _batch(m, covs, route, days, amounts, T, dt, sample):
    names = sorted({c.name for c in m.covariates if c.form != "note"})
    cov = {n: np.array([c.get(n, np.nan) for c in covs]) for n in names}
    params, ok = batch.batch_parameters(_pk.model(m.drug), len(covs), cov)
    assert ok.all()
    shifts = ((np.asarray(days) - 1) * 24 / dt).astype(np.int64)
    return batch.grid_courses(
        _pk.model(m.drug), params, [route] * len(days), shifts, amounts, T, dt, sample
    )


def _covered(drug: str) -> list[str]:
    m = _pk.model(drug)
    routes = []
    for r in m.routes:
        if r == "iv_bolus" or (r in ("sc", "oral") and m.absorption[r].tlag == 0):
            routes.append(r)
    return routes


DRUGS = [d for d in (m.drug for m in _pk.models().values() if m.linear) if _covered(d)]


@pytest.mark.parametrize("drug", ["bortezomib", "dexamethasone", "lenalidomide"])
def test_vrd_drugs_are_covered(drug):
    assert drug in DRUGS


@settings(max_examples=25, deadline=None)
@given(
    drug=st.sampled_from(DRUGS),
    bsa=st.floats(1.3, 2.6),
    weight=st.floats(40.0, 140.0),
    days=st.lists(st.integers(1, 40), min_size=1, max_size=8).map(sorted),
    amount=st.floats(0.1, 500.0),
    sample=st.sampled_from(["mid", "mean"]),
    fine=st.booleans(),
)
def test_batched_course_matches_engine(drug, bsa, weight, days, amount, sample, fine):
    """Each row's batched course is the exact one (long double) within 1e-13 of its maximum,
    and the cohort's per-patient path (the engine's single-dose course shifted to every dose)
    within 1e-12 at the mid-points, 5e-12 for interval means (that path's own rounding), for
    random covariates, dose days and amounts of every covered library drug and route."""
    dt, T = (0.25, 45 * 96) if fine else (1.0, 45 * 24)
    for route in _covered(drug):
        m0 = _pk.model(drug)
        covs = [{"bsa_m2": bsa, "weight_kg": weight}, {"bsa_m2": 1.8, "weight_kg": 70.0}]
        amounts = np.array([[amount * (1 + 0.1 * i) for i in range(len(days))]] * 2)
        amounts[1] *= 0.5
        out = _batch(m0, covs, route, days, amounts, T, dt, sample)
        assert out is not None
        for i, c in enumerate(covs):
            m = _pk.model(drug, **_covariates(m0, c))
            ref = _reference(m, route, days, amounts[i], T, dt, sample)
            ex = _exact(m, route, days, amounts[i], T, dt, sample)
            scale = float(np.max(np.abs(ex)))
            assert scale > 0
            assert float(np.max(np.abs(out[i] - ex))) <= 1e-13 * scale
            tol = 1e-12 if sample == "mid" else 5e-12
            assert float(np.max(np.abs(out[i] - ref))) <= tol * scale


def test_batch_parameters_match_model():
    m = _pk.model("bortezomib")
    bsa = np.array([1.4, 1.9, np.nan, 2.3])
    params, ok = batch.batch_parameters(m, 4, {"bsa_m2": bsa})
    assert ok.all()
    for i, x in enumerate(bsa.tolist()):
        mi = _pk.model("bortezomib", bsa_m2=x) if x == x else m
        for k, p in mi.parameters.items():
            assert params[k][i] == pytest.approx(p.value, rel=1e-15)
        lam, a = _pk.exponentials(mi.disposition)
        bl, ba = batch.batch_exponentials(
            params["cl"][i : i + 1],
            params["v1"][i : i + 1],
            np.stack([params["q2"][i : i + 1], params["q3"][i : i + 1]], 1),
            np.stack([params["v2"][i : i + 1], params["v3"][i : i + 1]], 1),
        )
        np.testing.assert_allclose(bl[0], lam, rtol=1e-13)
        np.testing.assert_allclose(ba[0], a, rtol=1e-13)


def test_invalid_covariate_rows_are_flagged():
    m = _pk.model("bortezomib")
    _, ok = batch.batch_parameters(m, 4, {"bsa_m2": np.array([1.8, -1.0, 0.0, np.inf])})
    assert ok.tolist() == [True, False, False, False]


@pytest.mark.parametrize("sample", ["mid", "mean"])
@pytest.mark.parametrize("rel", [0.0, 1e-6, 1e-3, 0.05])
def test_absorption_rate_at_a_disposition_rate(sample, rel):
    """ka equal (or close) to a disposition rate: the batched course stays within 1e-12 of
    the exact one (its pair recursion has no cancelling weights; the engine's interval means
    cancel there, ~1e-10 off at 1e-6)."""
    m = _pk.model("bortezomib")
    params, _ = batch.batch_parameters(m, 1, {"bsa_m2": np.array([1.8])})
    lam, _ = batch.batch_exponentials(
        params["cl"],
        params["v1"],
        np.stack([params["q2"], params["q3"]], 1),
        np.stack([params["v2"], params["v3"]], 1),
    )
    ka = float(lam[0, 1]) * (1.0 + rel)
    params["ka_sc"] = np.array([ka])
    days = [1, 4, 8, 11, 22, 25]
    dt, T = (1.0, 40 * 24) if sample == "mid" else (0.25, 40 * 96)
    shifts = ((np.asarray(days) - 1) * 24 / dt).astype(np.int64)
    out = batch.grid_courses(m, params, ["sc"] * 6, shifts, np.full((1, 6), 2.3), T, dt, sample)
    mk = _pk.model("bortezomib", bsa_m2=1.8)
    mk = dataclasses.replace(mk, absorption={"sc": dataclasses.replace(mk.absorption["sc"], ka=ka)})
    if rel == 0.0:  # the engine's limit form (the long-double difference would divide by 0)
        ref = _reference(mk, "sc", days, [2.3] * 6, T, dt, sample)
    else:
        ref = _exact(mk, "sc", days, [2.3] * 6, T, dt, sample)
    assert float(np.max(np.abs(out[0] - ref))) <= 1e-12 * float(ref.max())


def test_uncovered_routes_give_none():
    m = _pk.model("dexamethasone")
    params, _ = batch.batch_parameters(m, 1, {"weight_kg": np.array([70.0])})
    assert (
        batch.grid_courses(m, params, ["iv_infusion"], [0], np.ones((1, 1)), 8, 1.0, "mid") is None
    )


@pytest.mark.parametrize(
    "kw",
    [
        {"shift": np.array([3, 1])},
        {"shift": np.array([-1, 2])},
        {"amount": np.full((2, 2), np.nan)},
        {"amount": np.ones((3, 2))},
        {"sample": "end"},
        {"dt_h": 0.0},
    ],
)
def test_bad_input_is_one_line_error(kw):
    m = _pk.model("bortezomib")
    params, _ = batch.batch_parameters(m, 2, {"bsa_m2": np.array([1.8, 2.0])})
    args = {
        "shift": np.array([0, 2]),
        "amount": np.ones((2, 2)),
        "sample": "mid",
        "dt_h": 1.0,
    } | kw
    with pytest.raises(InvalidInputError):
        batch.grid_courses(
            m, params, ["sc", "sc"], args["shift"], args["amount"], 24, args["dt_h"], args["sample"]
        )


@pytest.mark.skipif(not _kernels.available("_pkgrid"), reason="kernel not built")
@settings(max_examples=30, deadline=None)
@given(
    P=st.integers(1, 5),
    M=st.integers(1, 4),
    T=st.integers(1, 300),
    shifts=st.lists(st.integers(0, 320), min_size=0, max_size=12).map(sorted),
    block=st.integers(1, 70),
    seed=st.integers(0, 1000),
)
def test_kernel_matches_reference(P, M, T, shifts, block, seed):
    rng = np.random.default_rng(seed)
    coef = rng.normal(size=(P, M))
    x = rng.uniform(0, 0.5, size=(P, M))
    q = np.asarray(shifts, dtype=np.int64)
    amount = rng.uniform(0, 3, size=(P, q.size))
    a = np.zeros((P, T))
    b = np.zeros((P, T))
    _kernels.load("_pkgrid").modal_courses(a, coef, x, q, amount, block, 2)
    _pkgrid_ref.modal_courses(b, coef, x, q, amount, block)
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13 * max(1.0, float(np.abs(b).max())))
    # and the definition, summed directly
    k = np.arange(T)
    ref = np.zeros((P, T))
    for d, s in enumerate(q.tolist()):
        on = k >= s
        for m in range(M):
            ref[:, on] += (coef[:, m] * amount[:, d])[:, None] * np.exp(
                -x[:, m][:, None] * (k[on] - s)[None, :]
            )
    np.testing.assert_allclose(a, ref, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(ref).max())))


@pytest.mark.skipif(not _kernels.available("_pkgrid"), reason="kernel not built")
def test_kernel_refuses_bad_input():
    k = _kernels.load("_pkgrid")
    out = np.zeros((1, 4))
    one = np.ones((1, 1))
    with pytest.raises(ValueError):
        k.modal_courses(out, one, one, np.array([2, 1]), np.ones((1, 2)), 4, 1)
    with pytest.raises(ValueError):
        k.modal_courses(out, one, -one, np.array([0]), one, 4, 1)
    with pytest.raises(ValueError):
        k.modal_courses(out, one, one, np.array([0]), one, 0, 1)
    with pytest.raises(ValueError):
        k.modal_courses(out, np.ones((2, 1)), one, np.array([0]), one, 4, 1)


@pytest.mark.skipif(not _kernels.available("_pkgrid"), reason="kernel not built")
def test_absorbed_kernel_refuses_bad_input():
    k = _kernels.load("_pkgrid")
    out = np.zeros((1, 4))
    one, vec = np.ones((1, 1)), np.ones(1)
    q, a = np.array([0]), np.ones((1, 1))
    with pytest.raises(ValueError):
        k.absorbed_courses(out, one, -vec, one, one, q, a, 1.0, 0.0, 4, 1)
    with pytest.raises(ValueError):
        k.absorbed_courses(out, one * np.nan, vec, one, one, q, a, 1.0, 0.0, 4, 1)
    with pytest.raises(ValueError):
        k.absorbed_courses(out, one, vec, one, one, np.array([2, 1]), np.ones((1, 2)), 1.0, 0, 4)
    with pytest.raises(ValueError):
        k.absorbed_courses(out, one, vec, one, one, q, a, 0.0, 0.0, 4, 1)
    with pytest.raises(ValueError):
        k.absorbed_courses(out, one, vec, np.ones((1, 2)), one, q, a, 1.0, 0.0, 4, 1)


@pytest.mark.skipif(not _kernels.available("_pkgrid"), reason="kernel not built")
@settings(max_examples=30, deadline=None)
@given(
    P=st.integers(1, 4),
    M=st.integers(1, 3),
    T=st.integers(1, 300),
    shifts=st.lists(st.integers(0, 320), min_size=0, max_size=10).map(sorted),
    block=st.integers(1, 70),
    c=st.sampled_from([0.0, 0.5]),
    seed=st.integers(0, 1000),
)
def test_absorbed_kernel_matches_reference(P, M, T, shifts, block, c, seed):
    """The compiled absorbed-dose recursion against its NumPy reference and the definition
    (every dose's Gamma and exp(-ka s) summed directly, in long double)."""
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.01, 2.0, size=(P, M))
    ka = rng.uniform(0.05, 2.0, size=P)
    lam[0, 0] = ka[0]  # equal rates: the limit form
    wg, we = rng.uniform(0, 2, size=(P, M)), rng.uniform(0, 2, size=(P, M))
    q = np.asarray(shifts, dtype=np.int64)
    amount = rng.uniform(0, 3, size=(P, q.size))
    h = 0.7
    a, b = np.zeros((P, T)), np.zeros((P, T))
    _kernels.load("_pkgrid").absorbed_courses(a, lam, ka, wg, we, q, amount, h, c, block, 2)
    _pkgrid_ref.absorbed_courses(b, lam, ka, wg, we, q, amount, h, c, block)
    scale = max(1.0, float(np.abs(b).max()))
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13 * scale)
    L = np.longdouble
    k = np.arange(T)
    ref = np.zeros((P, T), dtype=L)
    for d, s0 in enumerate(q.tolist()):
        on = k >= s0
        s = (k[on] - s0).astype(L) * L(h) + L(c)
        for p in range(P):
            kk = L(ka[p])
            e = np.exp(-kk * s)
            for i in range(M):
                ll = L(lam[p, i])
                g = s * e if ll == kk else (np.exp(-ll * s) - e) / (kk - ll)
                ref[p, on] += L(amount[p, d]) * (L(wg[p, i]) * g + L(we[p, i]) * e)
    np.testing.assert_allclose(a, ref.astype(float), rtol=1e-12, atol=1e-12 * scale)


@pytest.mark.skipif(not _kernels.available("_pkgrid"), reason="kernel not built")
def test_pkgrid_stub_and_reference_signatures():
    """The stub names the compiled functions with their parameters; the reference has them."""
    import ast
    import inspect
    import pathlib

    mod = _kernels.load("_pkgrid")
    kdir = pathlib.Path(_kernels.__file__).parent
    tree = ast.parse((kdir / "_pkgrid.pyi").read_text())
    stubs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    public = [n for n in dir(mod) if not n.startswith("_") and inspect.isroutine(getattr(mod, n))]
    assert sorted(stubs) == sorted(public)
    for name, node in stubs.items():
        real = list(inspect.signature(getattr(mod, name)).parameters)
        assert [x.arg for x in node.args.args] == real
        assert list(inspect.signature(getattr(_pkgrid_ref, name)).parameters) == real


@settings(max_examples=40, deadline=None)
@given(
    drug=st.sampled_from(sorted(_pk.models())),
    scale=st.floats(0.3, 3.0),
    flag=st.sampled_from([0.0, 1.0]),
    skip=st.booleans(),
)
def test_batch_parameters_equal_model_for_every_covariate(drug, scale, flag, skip):
    """Every library model's numeric covariates (power and linear forms, indicators) as
    arrays give pk.model's parameters; a value pk.model refuses is flagged (ok False)."""
    m = _pk.model(drug)
    numeric = [c for c in m.covariates if c.form != "note"]
    values: dict[str, float] = {}
    for c in numeric:
        if skip and c.name == numeric[0].name:
            continue  # a covariate not given: no effect
        indicator = c.form == "linear" and c.reference == 0
        values[c.name] = flag if indicator else float(c.reference or 1.0) * scale
    cov = {c.name: np.array([values.get(c.name, np.nan)]) for c in numeric}
    params, ok = batch.batch_parameters(m, 1, cov)
    try:
        ref = _pk.model(drug, **values)
    except MmmechError:
        assert not ok[0]
        return
    assert ok[0]
    for k, p in ref.parameters.items():
        assert params[k][0] == pytest.approx(p.value, rel=1e-14, abs=0)
