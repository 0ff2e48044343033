"""Helpers shared by the tests (importable: pytest puts tests/ on sys.path)."""

import tempfile

#: working folder for subprocesses: ``python -m`` and ``python -c`` put their working folder
#: first on sys.path, and from the source tree that would import the unbuilt ``mmmech/``
#: instead of the installed package
NEUTRAL_CWD = tempfile.mkdtemp(prefix="mmmech-tests-cwd-")


def assert_one_line_error(proc, *needles):
    """The CLI failed with exit 2, one line on stderr, no traceback, mentioning each needle."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n.lower() in lines[0].lower(), (n, lines[0])
