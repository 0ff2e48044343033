"""Hardening of the compiled kernels (issue 13 items 1, 2, 8, 11; issue 12 decimal precision).

Crash and signal tests run the kernel in a subprocess so that an abort cannot take pytest down.
"""
import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from _helpers import NEUTRAL_CWD
from mmmech import _kernels, propagate
from mmmech.compiled import compile_rules
from mmmech.exceptions import InvalidInputError

needs_logic = pytest.mark.skipif(not _kernels.available("_logic"),
                                 reason="the _logic kernel was not built")


def _run(code, timeout=120):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, cwd=NEUTRAL_CWD)


# -- 13.1: heap corruption from an absurd max_stack ------------------------------------------

_DEEP_RULE_MODEL = """
    import dataclasses
    from mmmech import propagate
    from mmmech.compiled import compile_rules
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
    proc = _run(_DEEP_RULE_MODEL + """
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
    """)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stdout.splitlines()
    assert len(lines) == 4 and all(ln.startswith("REFUSED") for ln in lines), proc.stdout
    assert all("max_stack" in ln and str(2 ** 57) in ln for ln in lines)


@needs_logic
@pytest.mark.parametrize("value", [2 ** 40, 10 ** 6, -(2 ** 57), 0])
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
        propagate.steady_state(dataclasses.replace(cm, max_stack=2 ** 57))
    assert propagate.steady_state(cm).converged.all()


@needs_logic
def test_kernel_refuses_wrapping_buffer_size_itself():
    """Defence in depth: the kernel checks its own allocation sizes even when handed a model
    that bypassed check_model."""
    from mmmech._kernels import _logic
    cm = compile_rules(["A", "B"], {"B": ("var", "A")})
    reg = propagate._prepare(cm, None, None, None, None, None, None, "t")
    with pytest.raises(ValueError, match="max_stack"):
        _logic.steady_state(dataclasses.replace(cm, max_stack=2 ** 57), reg, 1e-6, 1e-6, 1e-9,
                            100)


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
