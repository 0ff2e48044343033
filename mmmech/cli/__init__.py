"""The ``mmmech`` command line (argparse throughout).

Each subcommand lives in its own module (``_drugs``, ``_structures``, ``_pathway``,
``_simulate``, ``_score``, ``_screen``, ``_validate``, ``_regimen``, ``_report``, ``_rank``,
``_trial``, ``_calibrate``) with a
``register(subparsers, common)`` function.
Handlers take the parsed arguments and return ``(payload, text)``: ``payload`` is what
``--json`` prints (exactly one JSON document on stdout), ``text`` the readable form; a handler
may return ``(payload, text, exit_code)`` to report a finding as a non-zero exit (for example
``pathway validate`` on an invalid model exits 1 after printing its report).
The CLI holds no science: it parses, calls the Python API and prints.

Errors: any :class:`~mmmech.exceptions.MmmechError`, argparse usage errors and
operating-system errors (unreadable input, unwritable output, full disk, full stdout) become one
line on stderr (``mmmech: error: ...``) and exit code 2; ``--debug`` shows the traceback instead.
Warnings raised while a command runs (the library's own, and NumPy's floating-point
RuntimeWarnings) are printed once each as one ``mmmech: note: ...`` line on stderr, without
Python's file and source line. docs/cli.md is the full contract.

Progress: the commands that run long simulations (:data:`PROGRESS_COMMANDS`) take
``--progress``; the kernels then report on stderr (``mmmech score: 3 of 120 regimens done, ...``,
about once a second of a long kernel call). Without the flag they report when stderr is a
terminal, except when ``--json`` output goes to a pipe or file (a script is reading); ``screen
--quiet`` silences them too.
"""

import argparse
import errno
import json
import math
import os
import re
import sys
import warnings

from .. import __version__
from ..exceptions import MmmechError

__all__ = ["main", "build_parser", "emit_json"]

EXIT_OK, EXIT_USAGE = 0, 2
#: commands whose long kernel runs report progress on stderr (``--progress``)
PROGRESS_COMMANDS = ("score", "simulate", "screen", "validate")


class _OneLineParser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line on stderr and exit code 2."""

    def error(self, message):
        raise _UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


class _UsageError(Exception):
    pass


def _jsonable(obj):
    """Default hook for json.dumps: NumPy scalars and arrays, sets, paths."""
    try:
        import numpy as np  # deferred: NumPy loads on first use (keeps import mmmech fast)

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def _finite(obj):
    """Replace non-finite floats by None so the JSON stays valid (and says 'no value')."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def emit_json(payload, stream=None):
    """Write `payload` as one JSON document (NaN/inf written as null)."""
    stream = stream or sys.stdout
    json.dump(_finite(payload), stream, indent=2, default=_jsonable, ensure_ascii=False)
    stream.write("\n")


def build_parser():
    """The full argparse parser of ``mmmech``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print exactly one JSON document on stdout",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback on errors",
    )
    parser = _OneLineParser(
        prog="mmmech",
        description="Mechanistic models of multiple myeloma drugs and their combinations: "
        "drugs (RDKit), targets (Biopython), pathways (networkx), fast kernels "
        "(Cython) and synergy scores (Bliss, HSA, Loewe, ZIP).",
        epilog="Concentrations always carry a unit: DRUG=10nM, DRUG=1.5uM, DRUG=400ug/mL. "
        "Errors: one line on stderr, exit code 2; add --debug for the traceback.",
    )
    parser.add_argument("--version", action="version", version=f"mmmech {__version__}")
    parser.add_argument(
        "--debug", action="store_true", default=False, help="show the full traceback on errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)
    # deferred: a command loads its layers only when it runs
    from . import (
        _calibrate,  # deferred: a command loads its layers only when it runs
        _contexts,  # deferred: a command loads its layers only when it runs
        _drugs,  # deferred: a command loads its layers only when it runs
        _pathway,  # deferred: a command loads its layers only when it runs
        _rank,  # deferred: a command loads its layers only when it runs
        _regimen,  # deferred: a command loads its layers only when it runs
        _report,  # deferred: a command loads its layers only when it runs
        _score,  # deferred: a command loads its layers only when it runs
        _screen,  # deferred: a command loads its layers only when it runs
        _simulate,  # deferred: a command loads its layers only when it runs
        _structures,  # deferred: a command loads its layers only when it runs
        _trial,  # deferred: a command loads its layers only when it runs
        _validate,  # deferred: a command loads its layers only when it runs
    )

    for mod in (
        _score,
        _simulate,
        _screen,
        _drugs,
        _pathway,
        _structures,
        _contexts,
        _validate,
        _regimen,
        _rank,
        _report,
        _trial,
        _calibrate,
    ):
        mod.register(sub, common)
    for command in PROGRESS_COMMANDS:
        sub.choices[command].add_argument(
            "--progress",
            action="store_true",
            default=False,
            help="report the progress of long simulations on stderr (default: only when "
            "stderr is a terminal and --json output is not piped)",
        )
    return parser


def _isatty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _wants_progress(args):
    """Whether the kernels report progress on stderr while this command runs."""
    if not hasattr(args, "progress"):  # a command without long simulations
        return False
    if getattr(args, "quiet", False):
        if args.progress:
            raise _UsageError(
                f"mmmech {args.command}: --progress and --quiet contradict each other; give one"
            )
        return False
    if args.progress:
        return True
    if getattr(args, "json", False) and not _isatty(sys.stdout):
        return False  # a script reads the JSON: stay quiet
    return _isatty(sys.stderr)


def _run(args):
    """Run the command's handler, with the kernels' progress hook installed when wanted."""
    if not _wants_progress(args):
        return args.func(args)
    # deferred: loads NumPy and the kernels, which only the simulating commands need
    from ..simulation import propagate

    previous = propagate.progress_hook
    propagate.progress_hook = propagate.stderr_progress(f"mmmech {args.command}")
    try:
        return args.func(args)
    finally:
        propagate.progress_hook = previous


#: errno values that mean "the output could not be written" when the error names no file
_WRITE_ERRNOS = {
    getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EFBIG", "EIO", "EROFS") if hasattr(errno, n)
}
_NUMERIC = re.compile(r"encountered in|empty slice|degrees of freedom", re.IGNORECASE)


class _StdoutError(Exception):
    """Standard output could not be written (full device, closed pipe, ...)."""


class _Notes:
    """``warnings.showwarning`` replacement: each distinct warning once, as one note line."""

    def __init__(self, stream=None):
        self.stream = stream
        self.seen = set()

    @staticmethod
    def text(message, category):
        """(key, line): warnings with the same key are shown once. NumPy's floating-point
        warnings (overflow, invalid value, ... in any operation) share one key: one note."""
        msg = " ".join(str(message).split())
        if issubclass(category, RuntimeWarning) and _NUMERIC.search(msg):
            return "numerical", (
                f"numerical problem: {msg}; values that depend on it may be "
                f"inaccurate or missing (null); further numerical problems of "
                f"this run are not repeated"
            )
        return msg, msg

    def show(self, message, category, filename, lineno, file=None, line=None):
        key, text = self.text(message, category)
        if key in self.seen:
            return
        self.seen.add(key)
        try:
            stream = self.stream or sys.stderr
            stream.write(f"mmmech: note: {text}\n")
            stream.flush()
        except (OSError, ValueError):
            pass


def _silence_stdout():
    """Point file descriptor 1 at /dev/null so the interpreter's last flush cannot fail."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(fd, sys.stdout.fileno())
        finally:
            os.close(fd)
    except (OSError, ValueError, AttributeError):
        pass


def _os_error_line(exc, args):
    """One line for an OSError: the path(s) it names and the operating system's reason."""
    reason = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    command = " ".join(
        str(getattr(args, a))
        for a in ("command", "pathway_command", "drugs_command", "structures_command")
        if isinstance(getattr(args, a, None), str)
    )
    prefix = f"{command}: " if command else ""
    if exc.filename is not None:
        where = repr(os.fsdecode(exc.filename))
        if exc.filename2 is not None:
            where += f" -> {os.fsdecode(exc.filename2)!r}"
        return f"{prefix}{where}: {reason}"
    if exc.errno in _WRITE_ERRNOS:
        for opt in ("out", "plot"):
            value = getattr(args, opt, None)
            if isinstance(value, str):
                return (
                    f"{prefix}cannot write the output of --{opt} {value!r} or a file "
                    f"beside it: {reason}"
                )
    return f"{prefix}{reason}"


def _print_result(args, result):
    """Print the handler's result on stdout; returns the exit code."""
    payload, text, *rest = result
    try:
        if getattr(args, "json", False):
            emit_json(payload)
        elif text:
            print(text)
        sys.stdout.flush()
    except OSError as exc:
        _silence_stdout()
        if isinstance(exc, BrokenPipeError):  # e.g. `mmmech drugs list | head`
            return int(rest[0]) if rest else EXIT_OK
        raise _StdoutError(exc.strerror or str(exc)) from exc
    return int(rest[0]) if rest else EXIT_OK


def main(argv=None):
    """Entry point of the ``mmmech`` console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    args = None
    try:
        with warnings.catch_warnings():
            if not debug:  # --debug keeps Python's own warning format (file and line)
                warnings.showwarning = _Notes().show
            parser = build_parser()
            args = parser.parse_args(argv)
            args.argv = argv  # the exact command, for reports (--report)
            if not getattr(args, "func", None):
                if args.command is None:
                    parser.print_help(sys.stderr)
                    return EXIT_USAGE
                # a group such as 'mmmech drugs' without its subcommand
                raise _UsageError(
                    f"mmmech {args.command}: choose a subcommand "
                    f"(see 'mmmech {args.command} --help')"
                )
            result = _run(args)
            if result is None:
                return EXIT_OK
            return _print_result(args, result)
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except _StdoutError as exc:
        print(f"mmmech: error: cannot write to standard output: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MmmechError as exc:
        if debug:
            raise
        msg = " ".join(str(exc).split())
        print(f"mmmech: error: {msg}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mmmech: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # unreadable input, unwritable output, full disk, ...
        if debug:
            raise
        print(f"mmmech: error: {_os_error_line(exc, args)}", file=sys.stderr)
        return EXIT_USAGE
