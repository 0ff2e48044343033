"""The compiled nonlinear-PK solver (``mmmech._kernels._pkode`` behind ``pk.ode_batch``) against
its references: SciPy LSODA (``ode_concentrations``, rtol 1e-10) on every library drug with
nonlinear PK at its labelled schedule and on random problems (Hypothesis), the closed forms on
linear dispositions; its invariants (non-negative, batch = one by one, threads bit-identical),
its event rules (a dose at a sample time, overlapping infusions, unsorted and negative times)
and its one-line errors."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mmmech import _kernels, pk
from mmmech import regimens as R
from mmmech.exceptions import InvalidInputError
from mmmech.pk.engine import (
    Absorption,
    Disposition,
    Dose,
    concentrations,
    ode_batch,
    ode_concentrations,
)

pytestmark = pytest.mark.skipif(
    not _kernels.available("_pkode"), reason="the compiled kernel _pkode is not built"
)

#: the library's nonlinear drugs and a bundled regimen that doses each as labelled
LABELLED = {
    "daratumumab": "dara_rd",
    "isatuximab": "isa_pd",
    "elotuzumab": "elo_rd",
    "teclistamab": "teclistamab",
    "talquetamab": "talquetamab",
}
BODY = R.Body(weight_kg=70.0, bsa_m2=1.8)


def _rel(a, b, floor):
    """Largest ``|a - b| / max(|b|, floor)``."""
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor)))


def _within(a, b, rtol, atol=1e-11):
    """``|a - b| <= rtol |b| + atol`` everywhere (mg/L)."""
    return bool(np.all(np.abs(a - b) <= rtol * np.abs(b) + atol))


def _labelled(drug, cycles=12):
    m = pk.model(drug)
    evs = [e for e in R.expand(R.load(LABELLED[drug]), body=BODY, cycles=cycles) if e.drug == drug]
    doses = []
    for e in evs:
        t = (e.day - 1) * 24.0
        if e.route == "iv_infusion":
            doses.append(Dose(t, e.amount, "iv_infusion", m.infusion_h or 0.5))
        else:
            doses.append(Dose(t, e.amount, "sc" if e.route == "sc" else e.route))
    return m, doses


def test_every_nonlinear_library_drug_is_covered():
    nonlinear = {d for d in pk.names() if not pk.model(d).linear}
    assert nonlinear == set(LABELLED)


@pytest.mark.parametrize("drug", list(LABELLED))
def test_labelled_schedule_matches_lsoda(drug):
    m, doses = _labelled(drug)
    end = max(d.time_h for d in doses) + 28 * 24.0
    # every 2 h, plus the dose times themselves (a sample at a dose sees the dose)
    t = np.unique(np.concatenate([np.arange(0.0, end, 2.0) + 0.25, [d.time_h for d in doses]]))
    ab = dict(m.absorption)
    ref = ode_concentrations(m.disposition, doses, t, ab)
    got = ode_batch([m.disposition], [doses], t, [ab])[0]
    peak = ref.max()
    assert peak > 0
    rel = _rel(got, ref, 1e-6 * peak)
    print(f"{drug}: {len(doses)} doses, max relative difference to LSODA {rel:.2e}")
    assert rel < 1e-7
    # and via the public API (auto picks the compiled solver for a nonlinear model)
    api = pk.concentration(m, doses, t, unit="mg/L")
    lsoda = pk.concentration(m, doses, t, unit="mg/L", method="lsoda")
    np.testing.assert_allclose(api, got, rtol=1e-14, atol=0)  # up to the unit conversion
    np.testing.assert_allclose(lsoda, ref, rtol=1e-14, atol=0)


def test_kernel_is_closer_than_lsoda_to_a_tight_reference():
    # DOP853 at rtol 1e-13 as the truth: the kernel's error is below LSODA's own
    m, doses = _labelled("daratumumab", cycles=4)
    t = np.arange(0.0, 4 * 28 * 24.0, 6.0) + 1.0
    truth = ode_concentrations(m.disposition, doses, t, rtol=1e-13, atol=1e-15, method="DOP853")
    floor = 1e-6 * truth.max()
    k = _rel(ode_batch([m.disposition], [doses], t)[0], truth, floor)
    ls = _rel(ode_concentrations(m.disposition, doses, t), truth, floor)
    print(f"daratumumab x4 cycles vs DOP853 1e-13: kernel {k:.2e}, LSODA {ls:.2e}")
    assert k < 1e-8
    assert k < 10 * ls + 1e-12


_ab = st.fixed_dictionaries(
    {
        "oral": st.builds(
            Absorption,
            st.floats(0.05, 3.0),
            st.floats(0.1, 1.0),
            st.sampled_from([0.0, 0.0, 0.5, 1.25]),
        ),
        "sc": st.builds(Absorption, st.floats(0.005, 1.0), st.floats(0.1, 1.0)),
    }
)


@st.composite
def _disposition(draw, nonlinear=True):
    n = draw(st.integers(0, 2))
    kw = {}
    if nonlinear:
        kind = draw(st.sampled_from(["mm", "mm_kdes", "tv", "both"]))
        if kind != "tv":
            kw.update(vmax=draw(st.floats(0.1, 50.0)), km=draw(st.floats(0.05, 50.0)))
        if kind == "mm_kdes":
            kw["kdes"] = draw(st.floats(1e-4, 0.05))
        if kind in ("tv", "both"):
            kw.update(
                clm=draw(st.floats(-0.8, 1.0).filter(lambda x: abs(x) > 1e-3)),
                kcl=draw(st.floats(5.0, 200.0)),
                gcl=draw(st.floats(0.5, 4.0)),
            )
    return Disposition(
        draw(st.floats(0.05, 10.0)),
        draw(st.floats(2.0, 60.0)),
        tuple(draw(st.floats(0.05, 20.0)) for _ in range(n)),
        tuple(draw(st.floats(2.0, 300.0)) for _ in range(n)),
        **kw,
    )


@st.composite
def _doses(draw):
    out = []
    for _ in range(draw(st.integers(1, 6))):
        route = draw(st.sampled_from(["iv_bolus", "iv_infusion", "sc", "oral"]))
        t = draw(st.sampled_from([0.0, 6.0, 12.0, 24.0, 30.5, 48.0]))
        amt = draw(st.floats(0.5, 2000.0))
        dur = draw(st.floats(0.25, 30.0)) if route == "iv_infusion" else 0.0
        out.append(Dose(t, amt, route, dur))
    return out


_times = st.lists(st.floats(-5.0, 120.0), min_size=1, max_size=25).map(np.array)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_disposition(), _doses(), _times, _ab)
def test_random_nonlinear_problems_match_lsoda(disp, doses, times, ab):
    ref = ode_concentrations(disp, doses, times, ab)
    got = ode_batch([disp], [doses], times, [ab])[0]
    assert got.shape == times.shape
    assert np.all(got >= 0)
    # relative, plus 1e-11 mg/L absolute: both solvers' absolute tolerance (1e-12 mg) bounds
    # the error of courses decayed by many log units
    assert _within(got, ref, 1e-6)


@settings(max_examples=40, deadline=None)
@given(_disposition(nonlinear=False), _doses(), _times, _ab)
@example(Disposition(10.0, 2.0), [Dose(0.0, 0.5, "iv_bolus")], np.array([26.0]), {})
def test_linear_dispositions_equal_the_closed_form(disp, doses, times, ab):
    closed = concentrations(disp, doses, times, ab)
    got = ode_batch([disp], [doses], times, [ab])[0]
    assert np.all(got >= 0)
    assert _within(got, closed, 1e-7)


def test_batch_rows_equal_single_solves_and_threads_are_bit_identical():
    rng = np.random.default_rng(3)
    m, doses = _labelled("daratumumab", cycles=3)
    disps = [
        Disposition(
            m.disposition.cl * s,
            m.disposition.v1,
            m.disposition.q,
            m.disposition.vp,
            vmax=m.disposition.vmax * v,
            km=m.disposition.km,
            kdes=m.disposition.kdes,
        )
        for s, v in rng.lognormal(0.0, 0.3, (7, 2))
    ]
    t = np.linspace(0.0, 3 * 28 * 24.0, 400)
    one = ode_batch(disps, [doses] * 7, t)
    two = ode_batch(disps, [doses] * 7, t, num_threads=2)
    np.testing.assert_array_equal(one, two)
    for i, d in enumerate(disps):
        np.testing.assert_array_equal(one[i], ode_batch([d], [doses], t)[0])
    # patients differ, so their courses do
    assert len({row.tobytes() for row in one}) == 7


def test_dose_at_a_sample_time_is_seen_by_that_sample():
    disp = Disposition(1.0, 10.0, vmax=2.0, km=1.0)
    doses = [Dose(0.0, 100.0, "iv_bolus"), Dose(24.0, 50.0, "iv_bolus")]
    t = np.array([0.0, 24.0 - 1e-9, 24.0, 24.0 + 1e-9])
    got = ode_batch([disp], [doses], t)[0]
    ref = ode_concentrations(disp, doses, t)
    assert got[0] == pytest.approx(10.0, rel=1e-14)  # the first bolus / V1
    # the second bolus adds 50 mg / 10 L at t = 24 exactly
    assert got[2] - got[1] == pytest.approx(5.0, rel=1e-6)
    assert got[3] == pytest.approx(got[2], rel=1e-8)
    np.testing.assert_allclose(got, ref, rtol=1e-8)


def test_overlapping_infusions_unsorted_and_negative_times():
    lin = Disposition(2.0, 20.0, (4.0,), (40.0,))
    mm = Disposition(2.0, 20.0, (4.0,), (40.0,), vmax=5.0, km=2.0, kdes=0.01)
    doses = [
        Dose(0.0, 100.0, "iv_infusion", 10.0),
        Dose(4.0, 60.0, "iv_infusion", 2.0),  # inside the first
        Dose(8.0, 80.0, "iv_infusion", 6.0),  # overlaps its end
        Dose(10.0, 30.0, "iv_bolus"),  # at the first's end
    ]
    t = np.array([30.0, -2.0, 10.0, 4.0, 0.0, 14.0, 6.0, 10.0, 50.0, 9.999])
    got = ode_batch([lin, mm], [doses, doses], t)
    assert got[0, 1] == 0.0 and got[1, 1] == 0.0
    np.testing.assert_allclose(got[0], concentrations(lin, doses, t), rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(got[1], ode_concentrations(mm, doses, t), rtol=1e-7, atol=1e-14)
    assert got[0, 2] == got[0, 7]  # a repeated time gives the same value


def test_times_keep_their_shape_and_empty_inputs():
    disp = Disposition(1.0, 10.0, vmax=1.0, km=1.0)
    t = np.linspace(0.0, 10.0, 12).reshape(3, 4)
    out = ode_batch([disp, disp], [[Dose(0.0, 5.0, "iv_bolus")], []], t)
    assert out.shape == (2, 3, 4)
    assert np.all(out[1] == 0.0)
    assert ode_batch([], [], t).shape == (0, 3, 4)


def test_python_backend_is_the_lsoda_reference():
    disp = Disposition(0.5, 8.0, (1.0,), (12.0,), vmax=3.0, km=0.5)
    doses = [Dose(0.0, 40.0, "sc"), Dose(12.0, 20.0, "iv_infusion", 1.0)]
    ab = {"sc": Absorption(0.3, 0.7, 0.0)}
    t = np.linspace(0.0, 48.0, 97)
    py = ode_batch([disp], [doses], t, [ab], backend="python")[0]
    np.testing.assert_array_equal(py, ode_concentrations(disp, doses, t, ab))
    np.testing.assert_allclose(ode_batch([disp], [doses], t, [ab])[0], py, rtol=1e-7, atol=1e-12)


def test_reference_module_equals_ode_concentrations():
    from mmmech._kernels import _pkode_ref

    disp = Disposition(0.3, 5.0, (0.4,), (4.0,), vmax=1.0, km=0.3, clm=0.6, kcl=100.0, gcl=3.0)
    doses = [Dose(0.0, 500.0, "iv_infusion", 3.0), Dose(168.0, 500.0, "iv_infusion", 3.0)]
    t = np.linspace(0.0, 400.0, 41)
    p = np.zeros((1, 21))
    from mmmech.pk.engine import _pkode_row

    p[0] = _pkode_row(disp, [], {})
    out = np.zeros((1, t.size))
    brk = np.array([0.0, 3.0, 168.0, 171.0, 400.0, 400.0])
    _pkode_ref.solve(
        p,
        np.array([0, brk.size]),
        brk,
        np.array([0, 0]),
        np.zeros(0),
        np.zeros(0, dtype=np.intp),
        np.zeros(0),
        np.array([0, 2]),
        np.array([0.0, 168.0]),
        np.array([3.0, 171.0]),
        np.array([500.0 / 3.0, 500.0 / 3.0]),
        t,
        out,
        np.zeros(1, dtype=np.int32),
        np.zeros((1, 2), dtype=np.intp),
        1e-10,
        1e-12,
        10**6,
    )
    np.testing.assert_allclose(out[0], ode_concentrations(disp, doses, t), rtol=1e-12, atol=0)


def test_reference_and_stub_have_the_kernel_signature():
    import ast
    import inspect
    import pathlib

    from mmmech._kernels import _pkode, _pkode_ref

    a = inspect.signature(_pkode_ref.solve).parameters
    b = inspect.signature(_pkode.solve).parameters
    assert list(a) == list(b)
    assert [p.default for p in a.values()] == [p.default for p in b.values()]
    stub = ast.parse((pathlib.Path(_kernels.__file__).parent / "_pkode.pyi").read_text())
    funcs = {n.name: n for n in stub.body if isinstance(n, ast.FunctionDef)}
    public = [
        n for n in dir(_pkode) if not n.startswith("_") and inspect.isroutine(getattr(_pkode, n))
    ]
    assert sorted(funcs) == sorted(public)
    for name, node in funcs.items():
        assert [x.arg for x in node.args.args] == list(
            inspect.signature(getattr(_pkode, name)).parameters
        )


def test_time_varying_clearance_factor_matches_disposition():
    # a bolus under the time-varying clearance alone decays at CL(t)/V1 exactly:
    # C(t) = C0 exp(-int_0^t cl f(s) / V1 ds)
    from scipy.integrate import quad

    disp = Disposition(0.1, 5.0, clm=0.7, kcl=50.0, gcl=2.5)
    t = np.array([10.0, 50.0, 120.0])
    got = ode_batch([disp], [[Dose(0.0, 100.0, "iv_bolus")]], t)[0]
    want = [20.0 * math.exp(-quad(lambda s: 0.02 * disp.cl_factor(s), 0, x)[0]) for x in t]
    np.testing.assert_allclose(got, want, rtol=1e-8)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"backend": "cyton"}, r"ode_batch\(\): backend must be one of .*'cython'"),
        ({"rtol": 0.0}, r"ode_batch\(\): rtol must be a number in \(0, 1\)"),
        ({"atol": float("nan")}, r"ode_batch\(\): atol must be"),
        ({"num_threads": 0}, r"ode_batch\(\): num_threads must be an int >= 1"),
        ({"max_steps": 1.5}, r"ode_batch\(\): max_steps must be an int >= 1"),
        ({"times": [0.0, float("inf")]}, r"ode_batch\(\): times must be finite"),
        ({"times": ["a"]}, r"ode_batch\(\): times must be numbers"),
        ({"doses": [[]]}, r"ode_batch\(\): doses needs one dose list per disposition \(2\)"),
        ({"doses": [[(0.0, 1.0, "iv_bolus")], []]}, r"problem 0: doses must be Dose objects"),
        ({"doses": [[Dose(0.0, 1.0, "sc")], []]}, r"problem 0: no absorption parameters"),
        ({"dispositions": [Disposition(1.0, 1.0), "x"]}, r"problem 1: disposition must be"),
        ({"absorptions": [None]}, r"absorptions needs one mapping"),
    ],
)
def test_bad_input_one_line_errors(kwargs, match):
    args = {
        "dispositions": [Disposition(1.0, 1.0), Disposition(1.0, 1.0, vmax=1.0, km=1.0)],
        "doses": [[Dose(0.0, 1.0, "iv_bolus")], []],
        "times": [0.0, 1.0],
    }
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=match) as exc:
        ode_batch(**args)
    assert "\n" not in str(exc.value)


def test_a_problem_beyond_max_steps_fails_under_cython_and_falls_back_under_auto():
    from mmmech.exceptions import ConvergenceError

    disp = Disposition(1.0, 10.0, vmax=5.0, km=0.5)
    doses = [Dose(0.0, 100.0, "iv_bolus")]
    t = np.linspace(0.0, 200.0, 5)
    with pytest.raises(ConvergenceError, match=r"ode_batch\(\): the solver failed on problem 1 "):
        ode_batch([disp, disp], [[], doses], t, backend="cython", max_steps=3)
    got = ode_batch([disp], [doses], t, max_steps=3)[0]
    np.testing.assert_array_equal(got, ode_concentrations(disp, doses, t))


def test_api_method_names_lsoda():
    with pytest.raises(InvalidInputError, match="auto, closed, ode or lsoda"):
        pk.concentration("daratumumab", [(0.0, 1000.0, "iv_infusion", 2.0)], [1.0], method="x")
