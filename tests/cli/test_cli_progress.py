"""``--progress``: the kernels' progress reports on stderr for long runs (issue 13.2), stdout
unchanged; never on by default when ``--json`` output goes to a pipe."""

import re

# one batched kernel call of 36 dose points x 1,000 model variants (36,000 regimens): several
# seconds of kernel work, so the kernel reports (about once a second) at least once
LONG = ("score", "bortezomib", "lenalidomide", "--ensemble", "1000", "--metric", "bliss", "--json")
LINE = re.compile(r"^mmmech score: \d+ of 36000 regimens done, [\d,]+ steps, \d+ s$")


def test_progress_reports_on_stderr_and_leaves_stdout_unchanged(run_cli):
    quiet = run_cli(*LONG)  # stdout is a pipe: no progress by default
    loud = run_cli(*LONG, "--progress")
    assert quiet.returncode == loud.returncode == 0, (quiet.stderr, loud.stderr)
    assert loud.stdout == quiet.stdout
    reports = [ln for ln in loud.stderr.splitlines() if ln.startswith("mmmech score: ")]
    assert reports, loud.stderr
    assert all(LINE.match(ln) for ln in reports), reports
    done = [int(ln.split()[2]) for ln in reports]
    assert done == sorted(done) and done[-1] <= 36000
    assert "regimens done" not in quiet.stderr


def test_progress_flag_on_simulate_and_screen(run_cli, tmp_path):
    plain = run_cli("simulate", "bortezomib=10nM", "--json")
    flagged = run_cli("simulate", "bortezomib=10nM", "--json", "--progress")
    assert plain.returncode == flagged.returncode == 0, flagged.stderr
    assert flagged.stdout == plain.stdout
    both = run_cli(
        "screen",
        "bortezomib",
        "lenalidomide",
        "--size",
        "2",
        "--out",
        tmp_path / "s.csv",
        "--progress",
        "--quiet",
    )
    assert both.returncode == 2 and both.stdout == ""
    assert "--progress and --quiet" in both.stderr and len(both.stderr.splitlines()) == 1
    assert not (tmp_path / "s.csv").exists()
    other = run_cli("drugs", "list", "--progress")  # only the simulating commands take it
    assert other.returncode == 2
