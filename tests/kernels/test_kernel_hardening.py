"""Hardening of the compiled kernels (issue 13 items 1, 2, 8, 11; issue 12 decimal precision).

Crash and signal tests run the kernel in a subprocess so that an abort cannot take pytest down.
"""

import dataclasses
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from _helpers import NEUTRAL_CWD, tiny_model

from mmmech import _kernels
from mmmech.exceptions import InvalidInputError
from mmmech.simulation import propagate
from mmmech.simulation.compiled import compile_model, compile_rules

needs_logic = pytest.mark.skipif(
    not _kernels.available("_logic"), reason="the _logic kernel was not built"
)


def _run(code, timeout=120):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=NEUTRAL_CWD,
    )


# -- 13.1: heap corruption from an absurd max_stack ------------------------------------------

_DEEP_RULE_MODEL = """
    import dataclasses
    from mmmech.simulation import propagate
    from mmmech.simulation.compiled import compile_rules
    from mmmech.exceptions import InvalidInputError
    tree = ("var", "A")
    for _ in range(10):     # A AND (A OR (A AND ...)): a program ten levels deep
        tree = ("and", (("var", "A"), ("or", (("var", "A"), tree))))
    cm = compile_rules(["A", "B", "V"], {"B": tree, "V": ("not", ("var", "B"))})
    bad = dataclasses.replace(cm, max_stack=2 ** 57)
    for value in (2 ** 62, 2 ** 70, 2 ** 64 // 128 + 1):
        try:
            propagate.steady_state(dataclasses.replace(cm, max_stack=value))
        except InvalidInputError as exc:
            assert "max_stack" in str(exc), exc
        else:
            raise SystemExit(f"max_stack={value} accepted")
"""


@needs_logic
def test_huge_max_stack_is_an_input_error_not_heap_corruption():
    """The reliability report's repro (max_stack = 2**57 wrapped the buffer size in
    _group_new and aborted with 'double free or corruption'): now one clean error."""
    proc = _run(
        _DEEP_RULE_MODEL
        + """
    for call in (lambda: propagate.check_model(bad),
                 lambda: propagate.steady_state(bad),
                 lambda: propagate.time_course(bad, [1.0]),
                 lambda: propagate.integrate_fixed(bad, 0.1, 3)):
        try:
            call()
        except InvalidInputError as exc:
            print("REFUSED", exc)
        else:
            print("ACCEPTED")
    """
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stdout.splitlines()
    assert len(lines) == 4 and all(ln.startswith("REFUSED") for ln in lines), proc.stdout
    assert all("max_stack" in ln and str(2**57) in ln for ln in lines)


@needs_logic
@pytest.mark.parametrize("value", [2**40, 10**6, -(2**57), 0])
def test_absurd_max_stack_refused(value):
    tree = ("and", (("var", "A"), ("or", (("var", "A"), ("var", "A")))))
    cm = compile_rules(["A", "B"], {"B": tree})
    with pytest.raises(InvalidInputError, match="max_stack"):
        propagate.steady_state(dataclasses.replace(cm, max_stack=value))


@needs_logic
def test_max_stack_checked_for_models_without_rules():
    """Before, the bound was only checked when some node had a rule."""
    cm = compile_rules(["A", "B"], {})
    with pytest.raises(InvalidInputError, match="max_stack"):
        propagate.steady_state(dataclasses.replace(cm, max_stack=2**57))
    assert propagate.steady_state(cm).converged.all()


@needs_logic
def test_kernel_refuses_wrapping_buffer_size_itself():
    """Defence in depth: the kernel checks its own allocation sizes even when handed a model
    that bypassed check_model."""
    from mmmech._kernels import _logic

    cm = compile_rules(["A", "B"], {"B": ("var", "A")})
    reg = propagate._prepare(cm, None, None, None, None, None, None, "t")
    with pytest.raises(ValueError, match="max_stack"):
        _logic.steady_state(dataclasses.replace(cm, max_stack=2**57), reg, 1e-6, 1e-6, 1e-9, 100)


# -- issue 12: importing the logic kernel changed decimal's global precision ------------------


@needs_logic
def test_import_leaves_decimal_context_alone():
    proc = _run("""
    import decimal
    decimal.getcontext().prec = 7
    decimal.getcontext().rounding = decimal.ROUND_DOWN
    import mmmech._kernels._logic
    c = decimal.getcontext()
    print(c.prec, c.rounding)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["7", "ROUND_DOWN"]


@needs_logic
def test_import_keeps_default_precision():
    proc = _run("""
    import decimal
    import mmmech._kernels._logic
    print(decimal.getcontext().prec)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "28"


# -- 13.8: slow nodes were "converged" at their start after zero steps -------------------------

_TAU_1E6 = tiny_model(tau=1e6)


def _tau_model(tmp_path):
    from mmmech import pathways

    p = tmp_path / "tau_1e6.toml"
    p.write_text(_TAU_1E6)
    return compile_model(pathways.read(str(p)))


def _with_tau(cm, tau):
    from mmmech.simulation.compiled import ParamSet

    p = cm.params
    return ParamSet(p.w, p.n, p.ec50, np.broadcast_to(tau, p.tau.shape).copy(), p.ymax)


@pytest.mark.parametrize("backend", [pytest.param("cython", marks=needs_logic), "python"])
def test_slow_node_not_reported_settled_at_its_start(tmp_path, backend):
    """The reliability report's fixture tau_1e6.toml: B (tau 1e6) starts at 0 with target 1.
    Before: converged=True after 0 steps with B=0. Now either the true steady state (B=1) or
    an honest converged=False."""
    cm = _tau_model(tmp_path)
    b = cm.nodes.index("B")
    res = propagate.steady_state(cm, backend=backend)
    assert res.steps[0] > 0
    if res.converged[0]:
        assert res.y[0, b] == pytest.approx(1.0, abs=1e-4)
    else:
        assert res.y[0, b] < 0.99


@pytest.mark.parametrize("backend", [pytest.param("cython", marks=needs_logic), "python"])
@pytest.mark.parametrize("scale", [1e3, 1e6, 1e9, 1e300])
def test_steady_state_does_not_depend_on_a_common_time_unit(tmp_path, backend, scale):
    """Multiplying every tau by the same factor only rescales time: the same steady state."""
    cm = _tau_model(tmp_path)
    ref = propagate.steady_state(cm, params=_with_tau(cm, 1.0), backend=backend)
    slow = propagate.steady_state(cm, params=_with_tau(cm, scale), backend=backend)
    assert ref.converged.all() and slow.converged.all()
    assert slow.steps[0] > 0
    np.testing.assert_allclose(slow.y, ref.y, atol=1e-5)
    assert slow.t[0] > scale  # it took model time on the slow clock


@pytest.mark.parametrize("backend", [pytest.param("cython", marks=needs_logic), "python"])
def test_zero_steps_only_at_a_verified_fixed_point(tmp_path, backend):
    cm = _tau_model(tmp_path)
    params = _with_tau(cm, 1e6)
    settled = propagate.steady_state(cm, params=params, backend=backend, tol=1e-9, max_steps=5000)
    assert settled.converged.all()
    again = propagate.steady_state(cm, params=params, y0=settled.y, backend=backend)
    assert again.converged.all() and again.steps[0] == 0
    np.testing.assert_array_equal(again.y, settled.y)
    # one node moved off its fixed point by 0.01: not settled on a slow clock either
    y0 = settled.y.copy()
    y0[0, cm.nodes.index("B")] -= 0.01
    moved = propagate.steady_state(cm, params=params, y0=y0, backend=backend)
    assert moved.steps[0] > 0


@needs_logic
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scale_aware_stop_kernel_equals_reference(seed):
    """Time constants spread over 1e-2..1e8: the kernel and the NumPy reference take the same
    steps and agree on which regimens settled."""
    from mmmech.testing import random_logic_model, random_param_sets, random_regimens

    cm = random_logic_model(20, n_inputs=3, seed=seed)
    R, P = 20, 4
    mask, value = random_regimens(cm, R, p_fixed=0.15, seed=seed + 1)
    rng = np.random.default_rng(seed)
    ps = random_param_sets(cm, P, seed=seed + 2)
    tau = 10.0 ** rng.uniform(-2, 8, size=(P, 1)) * np.exp(0.3 * rng.standard_normal((P, 20)))
    ps = type(ps)(ps.w, ps.n, ps.ec50, tau, ps.ymax)
    kw = dict(
        fixed_mask=mask,
        fixed_value=value,
        y0=rng.random((R, 20)),
        params=ps,
        param_index=rng.integers(0, P, R),
        max_steps=4000,
    )
    a = propagate.steady_state(cm, backend="cython", **kw)
    b = propagate.steady_state(cm, backend="python", **kw)
    np.testing.assert_array_equal(a.converged, b.converged)
    np.testing.assert_array_equal(a.steps, b.steps)
    both = a.converged & b.converged
    assert both.any()
    np.testing.assert_allclose(a.y[both], b.y[both], atol=1e-6)
    np.testing.assert_allclose(a.t, b.t, rtol=1e-6)


# -- 13.2: Ctrl-C, progress and refusal of impossible work ------------------------------------

_RING = """
    import signal, sys
    import numpy as np
    from mmmech.simulation import propagate
    from mmmech.simulation.compiled import ParamSet, compile_rules
    signal.signal(signal.SIGINT, signal.default_int_handler)   # even if started with SIGINT ignored
    N, R = {N}, {R}
    names = [f"N{{i}}" for i in range(N)]
    # an odd ring of steep NOTs oscillates: it never settles, every regimen runs max_steps
    cm = compile_rules(names, {{names[i]: ("not", ("var", names[i - 1])) for i in range(N)}})
    p = cm.params
    ps = ParamSet(p.w, np.full_like(p.n, 4.0), np.full_like(p.ec50, 0.5), p.tau, p.ymax)
    y0 = np.random.default_rng(0).random((R, N))
    def progress(done, total, steps):
        print("PROGRESS", done, total, steps, flush=True)
    try:
        propagate.{call}
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
        sys.exit(3)
    print("FINISHED", flush=True)
"""


@needs_logic
@pytest.mark.slow
@pytest.mark.parametrize(
    "call, threads",
    [
        (
            "steady_state(cm, params=ps, y0=y0, max_steps=10**6, num_threads={t}, "
            "progress=progress)",
            1,
        ),
        (
            "steady_state(cm, params=ps, y0=y0, max_steps=10**6, num_threads={t}, "
            "progress=progress)",
            2,
        ),
        (
            "time_course(cm, [1e9], params=ps, y0=y0, max_steps=10**6, num_threads={t}, "
            "progress=progress)",
            2,
        ),
        (
            "integrate_fixed(cm, 0.01, 10**6, params=ps, y0=y0, num_threads={t}, "
            "progress=progress)",
            2,
        ),
    ],
)
def test_ctrl_c_stops_a_long_kernel_run(call, threads):
    """A run that would take hours reports progress and ends with KeyboardInterrupt soon after
    SIGINT (before: the nogil loop ignored SIGINT for minutes)."""
    code = textwrap.dedent(_RING).format(N=5001, R=40, call=call.format(t=threads))
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=NEUTRAL_CWD,
    )
    try:
        first = proc.stdout.readline()  # the first progress report: the kernel runs
        assert first.startswith("PROGRESS"), (first, proc.stderr.read() if proc.poll() else "")
        done, total, steps = map(int, first.split()[1:])
        assert total == 40 and 0 <= done < total
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)  # generous: only "did not hang"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 3, (proc.returncode, out, err[-2000:])
    assert "INTERRUPTED" in out and "FINISHED" not in out


@needs_logic
def test_progress_callback_errors_stop_the_run():
    """An exception raised by the progress callback ends the run and propagates."""
    names = [f"N{i}" for i in range(2001)]
    cm = compile_rules(names, {names[i]: ("not", ("var", names[i - 1])) for i in range(len(names))})
    from mmmech.simulation.compiled import ParamSet

    p = cm.params
    ps = ParamSet(p.w, np.full_like(p.n, 4.0), np.full_like(p.ec50, 0.5), p.tau, p.ymax)
    y0 = np.random.default_rng(0).random((1, len(names)))
    from mmmech._kernels import _logic

    reg = propagate._prepare(cm, None, None, y0, ps, None, None, "t")
    calls = []

    def progress(done, total, steps):
        calls.append((done, total, steps))
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        _logic.steady_state(
            cm, reg, 1e-6, 1e-6, 1e-9, 10**7, 1, progress=progress, progress_interval=0.0
        )
    assert len(calls) == 1 and calls[0][:2] == (0, 1) and calls[0][2] >= 0


def test_impossible_work_is_refused_up_front():
    cm = compile_rules(["A", "B"], {"B": ("var", "A")})
    with pytest.raises(InvalidInputError, match=r"refused: needs .* GiB .* fewer regimens"):
        propagate.steady_state(cm, n_regimens=10**13)
    for call in (
        lambda: propagate.time_course(cm, [1e12], n_regimens=10**5, max_steps=2**40),
        lambda: propagate.integrate_fixed(cm, 0.1, 2**40, n_regimens=10**3),
    ):
        with pytest.raises(InvalidInputError, match=r"refused: needs at least .* reduce"):
            call()
    # what finishes is not refused: many regimens of a model that settles quickly
    assert propagate.steady_state(cm, n_regimens=10**5, max_steps=2**40).converged.all()


def test_output_larger_than_memory_is_refused():
    cm = compile_rules(["A", "B"], {"B": ("var", "A")})
    with pytest.raises(InvalidInputError, match=r"refused: needs .* GiB"):
        propagate.time_course(cm, np.arange(1, 2**22, dtype=float), n_regimens=2**20, max_steps=1)


def test_progress_must_be_callable():
    cm = compile_rules(["A", "B"], {"B": ("var", "A")})
    with pytest.raises(InvalidInputError, match="progress"):
        propagate.steady_state(cm, progress="yes")


_DIFFUSE = """
    import signal, sys, threading
    import numpy as np
    from mmmech.simulation.diffusion import diffuse, diffusion_operator
    from mmmech.testing import random_signed_graph
    signal.signal(signal.SIGINT, signal.default_int_handler)
    A = random_signed_graph(20000, 120000, seed=1)
    op = diffusion_operator(A)
    S = np.zeros((48, 20000))
    S[np.arange(48), np.arange(48) * 7] = 1.0
    print("RUNNING", flush=True)
    try:
        diffuse(op, S, restart=1e-9, tol=0, n_iter=10 ** 9, backend="cython",
                num_threads={threads})
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
        sys.exit(3)
    print("FINISHED", flush=True)
"""


@pytest.mark.skipif(not _kernels.available("_linear"), reason="the _linear kernel was not built")
@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_stops_a_long_diffusion(threads):
    """The linear kernel polls for Ctrl-C between iterations too."""
    code = textwrap.dedent(_DIFFUSE).format(threads=threads)
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=NEUTRAL_CWD,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("RUNNING"), (first, proc.stderr.read() if proc.poll() else "")
        time.sleep(1.5)  # inside the kernel by now (10**9 iterations)
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 3, (proc.returncode, out, err[-2000:])
    assert "INTERRUPTED" in out and "FINISHED" not in out


class _Seen(Exception):
    pass


@pytest.mark.parametrize("backend", [pytest.param("cython", marks=needs_logic), "python"])
def test_module_progress_hook_is_used_by_default(monkeypatch, backend):
    """The CLI's hook: propagate.progress_hook receives reports of a long run without any
    argument being threaded through (here it stops the endless run at the first report)."""
    from mmmech.simulation.compiled import ParamSet

    names = [f"N{i}" for i in range(301 if backend == "python" else 2001)]
    cm = compile_rules(names, {names[i]: ("not", ("var", names[i - 1])) for i in range(len(names))})
    p = cm.params
    ps = ParamSet(p.w, np.full_like(p.n, 4.0), np.full_like(p.ec50, 0.5), p.tau, p.ymax)
    seen = []

    def hook(done, total, steps):
        seen.append((done, total, steps))
        raise _Seen

    monkeypatch.setattr(propagate, "progress_hook", hook)
    y0 = np.random.default_rng(0).random((1, len(names)))
    with pytest.raises(_Seen):
        propagate.steady_state(cm, params=ps, y0=y0, max_steps=10**7, backend=backend)
    assert seen[0][:2] == (0, 1) and seen[0][2] > 0


def test_stderr_progress_prints_one_line(capsys):
    report = propagate.stderr_progress("mmmech: simulate")
    report(3, 120, 4200)
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("mmmech: simulate: 3 of 120 regimens done, 4,200 steps")
