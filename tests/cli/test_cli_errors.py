"""Issue 13.12, 13.14, 13.17 and 13.3 (plates) at the command line: output paths that are not
regular files, operating-system errors as one line (exit 2), warnings as one
``mmmech: note:`` line each, oversized plates refused up front. docs/cli.md is the contract.

The tests run as root in CI, so "no permission" is simulated in-process (monkeypatched
``tempfile.mkstemp`` / ``open`` raising the real errno) and, where ``setpriv`` can drop the
capabilities that let root ignore file modes, also for real in a subprocess. The real
``/dev/full`` is only ever used as standard output, never as ``--out``.
"""

import builtins
import csv
import errno
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile

import pytest
from _helpers import NEUTRAL_CWD, assert_one_line_error

from mmmech import utils
from mmmech.cli import main

SCREEN = ["screen", "bortezomib", "lenalidomide", "dexamethasone", "--size", "2", "--quiet"]


def _listing(folder):
    return sorted(os.listdir(folder))


def _fifo(path):
    os.mkfifo(path)
    return path


def _socket(path):
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()  # the socket file stays
    return path


# --------------------------------------------------- 13.12: only a regular file is replaced
@pytest.mark.parametrize("make, kind", [(_fifo, "named pipe"), (_socket, "socket")])
@pytest.mark.parametrize(
    "cmd, name",
    [
        (["pathway", "export", "--format", "sif", "--out"], "x.sif"),
        (["score", "bortezomib", "lenalidomide", "--plot"], "x.png"),
        ([*SCREEN, "--out"], "x.csv"),
    ],
    ids=["export", "plot", "screen"],
)
def test_special_file_at_out_is_refused_and_left_intact(run_cli, tmp_path, make, kind, cmd, name):
    target = make(str(tmp_path / name))
    before = _listing(tmp_path)
    p = run_cli(*cmd, target, timeout=120)
    assert_one_line_error(p, name, kind, "not a regular file")
    mode = os.lstat(target).st_mode
    assert stat.S_ISFIFO(mode) if kind == "named pipe" else stat.S_ISSOCK(mode)
    assert _listing(tmp_path) == before  # no temporary file, no journal left


def test_symlink_at_out_replaces_its_target_and_keeps_the_link(run_cli, tmp_path):
    real = tmp_path / "store" / "model.sif"
    real.parent.mkdir()
    real.write_text("old content\n")
    os.chmod(real, 0o640)
    link = tmp_path / "link.sif"
    link.symlink_to(os.path.relpath(real, tmp_path))
    p = run_cli("pathway", "export", "--format", "sif", "--out", link)
    assert p.returncode == 0, p.stderr
    assert link.is_symlink() and os.readlink(link) == os.path.relpath(real, tmp_path)
    text = real.read_text()
    assert "old content" not in text and "PSMB5\t" in text
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o640  # the target keeps its mode
    assert _listing(real.parent) == ["model.sif"]  # no temporary file left


def test_dangling_symlink_at_out_creates_its_target(run_cli, tmp_path):
    link = tmp_path / "link.sif"
    link.symlink_to("made.sif")
    p = run_cli("pathway", "export", "--format", "sif", "--out", link)
    assert p.returncode == 0, p.stderr
    assert link.is_symlink() and (tmp_path / "made.sif").is_file()
    assert "PSMB5\t" in (tmp_path / "made.sif").read_text()


def test_symlink_to_a_fifo_is_refused(run_cli, tmp_path):
    _fifo(str(tmp_path / "pipe"))
    (tmp_path / "link.sif").symlink_to("pipe")
    p = run_cli("pathway", "export", "--format", "sif", "--out", tmp_path / "link.sif")
    assert_one_line_error(p, "link.sif", "named pipe")
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe").st_mode)


# --------------------------------------------------- 13.14: OS errors as one line, exit 2
@pytest.mark.parametrize(
    "cmd, name",
    [
        (["pathway", "export", "--format", "sif", "--out"], "adir.sif"),
        (["pathway", "draw", "--out"], "adir.png"),
        (["score", "bortezomib", "lenalidomide", "--plot"], "adir.png"),
    ],
    ids=["export", "draw", "plot"],
)
def test_folder_at_the_output_path(run_cli, tmp_path, cmd, name):
    (tmp_path / name).mkdir()
    p = run_cli(*cmd, tmp_path / name)
    assert_one_line_error(p, name, "folder")
    assert (tmp_path / name).is_dir() and _listing(tmp_path) == [name]


def test_folder_at_the_screen_journal_path(run_cli, tmp_path):
    (tmp_path / "s.csv.partial").mkdir()
    p = run_cli(*SCREEN, "--out", tmp_path / "s.csv", timeout=120)
    assert_one_line_error(p, "s.csv.partial", "folder")
    assert _listing(tmp_path) == ["s.csv.partial"]


@pytest.mark.parametrize(
    "cmd",
    [
        ["pathway", "export", "--format", "sif", "--out"],
        ["score", "bortezomib", "lenalidomide", "--plot"],
    ],
    ids=["export", "plot"],
)
def test_output_folder_that_is_a_regular_file(run_cli, tmp_path, cmd):
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / ("x.png" if "--plot" in cmd else "x.sif")
    p = run_cli(*cmd, out)
    assert_one_line_error(p, "afile", "is not a folder")
    assert (tmp_path / "afile").read_text() == "x"


def test_read_only_output_folder_in_process(tmp_path, monkeypatch, capsys):
    def denied(*args, dir=None, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), dir)

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    out = tmp_path / "x.sif"
    assert main(["pathway", "export", "--format", "sif", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mmmech: error: ")
    assert "x.sif" in err and os.strerror(errno.EACCES) in err
    assert _listing(tmp_path) == []


class _FullDisk:
    """A file opened for writing on a full device: every write fails with ENOSPC."""

    def __init__(self, fh):
        self.fh = fh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_during_the_atomic_write_in_process(tmp_path, monkeypatch, capsys):
    def full_open(file, mode="r", *args, **kwargs):
        fh = builtins.open(file, mode, *args, **kwargs)
        return _FullDisk(fh) if "w" in mode else fh

    monkeypatch.setattr(utils, "open", full_open, raising=False)
    (tmp_path / "x.sif").write_text("previous\n")
    assert main(["pathway", "export", "--format", "sif", "--out", str(tmp_path / "x.sif")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mmmech: error: ")
    assert "x.sif" in err and os.strerror(errno.ENOSPC) in err
    # the old file is untouched and no temporary file is left beside it
    assert _listing(tmp_path) == ["x.sif"] and (tmp_path / "x.sif").read_text() == "previous\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize(
    "cmd",
    [
        ["drugs", "list", "--json"],
        ["drugs", "list"],
        ["pathway", "export", "--format", "sif"],
        ["simulate", "bortezomib=10nM", "--json"],
    ],
    ids=" ".join,
)
def test_stdout_on_a_full_device(cmd):
    with open("/dev/full", "w") as full:  # only ever as standard output
        p = subprocess.run(
            [sys.executable, "-m", "mmmech", *cmd],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            cwd=NEUTRAL_CWD,
        )
    assert_one_line_error(p, "standard output", os.strerror(errno.ENOSPC))


def test_folder_given_as_a_model_file(run_cli, tmp_path):
    (tmp_path / "m.sif").mkdir()
    for cmd in (["simulate", "--model"], ["pathway", "show"]):
        p = run_cli(*cmd, tmp_path / "m.sif")
        assert_one_line_error(p, "m.sif", "is a folder")


def test_unreadable_plate_in_process(tmp_path, monkeypatch, capsys):
    plate = _plate(tmp_path / "noperm.csv", 2)
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and os.fspath(file) == str(plate):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(plate))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    assert main(["score", "--data", str(plate), "--response", "viability"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mmmech: error: score: ")
    assert "noperm.csv" in err and os.strerror(errno.EACCES) in err


def _without_dac():
    """Command prefix under which file modes apply (root ignores them), or skip."""
    if os.geteuid() != 0:
        return []
    tool = shutil.which("setpriv")
    prefix = [tool, "--bounding-set=-dac_override,-dac_read_search,-fowner"] if tool else None
    if prefix is None or subprocess.run([*prefix, "true"], capture_output=True).returncode:
        pytest.skip("running as root without a usable setpriv: file modes cannot be tested")
    return prefix


def test_permissions_for_real(tmp_path):
    prefix = _without_dac()
    ro = tmp_path / "ro"
    ro.mkdir()
    plate = _plate(tmp_path / "noperm.csv", 2)
    model = tmp_path / "noperm.sif"
    model.write_text("A\t1\tB\n")
    os.chmod(plate, 0)
    os.chmod(model, 0)
    os.chmod(ro, 0o555)
    try:
        cases = [
            (["pathway", "export", "--format", "sif", "--out", ro / "x.sif"], "x.sif"),
            (["score", "bortezomib", "lenalidomide", "--plot", ro / "x.png"], "x.png"),
            ([*SCREEN, "--out", ro / "s.csv"], "s.csv"),
            (["score", "--data", plate, "--response", "viability"], "noperm.csv"),
            (["simulate", "--model", model], "noperm.sif"),
        ]
        for cmd, name in cases:
            p = subprocess.run(
                [*prefix, sys.executable, "-m", "mmmech", *map(str, cmd)],
                capture_output=True,
                text=True,
                timeout=300,
                cwd=NEUTRAL_CWD,
            )
            assert_one_line_error(p, name, os.strerror(errno.EACCES))
            assert _listing(ro) == []
    finally:
        os.chmod(ro, 0o755)


# --------------------------------------------------- 13.17: warnings as one note line each
def _notes(p):
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    for ln in lines:
        assert ln.startswith("mmmech: note: "), p.stderr
        assert ".py:" not in ln and "warnings.warn" not in ln and "Warning:" not in ln
    return lines


def test_default_rules_warning_is_one_note(run_cli, tmp_path):
    (tmp_path / "x.sif").write_text("A\t1\tB\nB\t-1\tC\n")
    for cmd in (
        ["simulate", "--model", tmp_path / "x.sif", "--set", "A=1", "--json"],
        ["pathway", "show", tmp_path / "x.sif"],
    ):
        p = run_cli(*cmd)
        assert p.returncode == 0, p.stderr
        notes = _notes(p)
        assert len(notes) == 1 and "default rules" in notes[0], p.stderr
    assert json.loads(run_cli("simulate", "--model", tmp_path / "x.sif", "--json").stdout)


def test_non_convergence_is_one_note(run_cli, tmp_path):
    # a three-node repressilator with steep edges (n = 10) oscillates: no steady state
    ring = [("C", "A"), ("A", "B"), ("B", "C")]
    text = (
        '[model]\nname = "ring"\nversion = "1"\ndescription = "repressilator"\n'
        '[readouts]\nviability = "V"\n'
    )
    for a, b in ring:
        text += f'[[node]]\nname = "{b}"\nrule = "NOT {a}"\n'
    text += '[[node]]\nname = "V"\nkind = "phenotype"\nrule = "A"\n'
    for a, b in ring + [("A", "V")]:
        text += (
            f'[[edge]]\nsource = "{a}"\ntarget = "{b}"\nsign = {1 if b == "V" else -1}\n'
            f'n = 10\nsources = ["PMID:1"]\n'
        )
    (tmp_path / "ring.toml").write_text(text)
    (tmp_path / "bare.toml").write_text('[context]\nname = "bare"\n')
    p = run_cli(
        "simulate", "--model", tmp_path / "ring.toml", "--context", tmp_path / "bare.toml", "--json"
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["converged"] is False
    notes = _notes(p)
    assert len(notes) == 1 and "did not reach steady state" in notes[0], p.stderr


def test_numpy_overflow_on_absurd_plate_values_is_one_note(run_cli, tmp_path):
    rows = [["block_id", "drug1", "drug2", "conc1", "conc2", "conc_unit", "response"]]
    for i, a in enumerate([0, 1, 10, 100]):
        for j, b in enumerate([0, 1, 10, 100]):
            rows.append(
                [
                    1,
                    "bortezomib",
                    "lenalidomide",
                    a,
                    b,
                    "nM",
                    1e308 if (i + j) % 2 else 100 - 5 * (i + j),
                ]
            )
    with open(tmp_path / "huge.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    p = run_cli("score", "--data", tmp_path / "huge.csv", "--response", "viability", "--json")
    assert p.returncode == 0, p.stderr
    json.loads(p.stdout)  # still one valid JSON document
    notes = _notes(p)
    assert len(notes) == 1 and "numerical problem" in notes[0], p.stderr


# --------------------------------------------------- 13.3 (plates): refused before allocating
def _plate(path, k):
    """A K-drug block: control, each monotherapy and one well with every drug (K + 2 rows)."""
    head = (
        ["block_id"]
        + [f"drug{i}" for i in range(1, k + 1)]
        + [f"conc{i}" for i in range(1, k + 1)]
        + ["conc_unit", "response"]
    )
    wells = [[0] * k] + [[10 if j == i else 0 for j in range(k)] for i in range(k)] + [[10] * k]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        for n, c in enumerate(wells):
            w.writerow([1] + [f"D{i}" for i in range(1, k + 1)] + c + ["nM", 100 - n])
    return path


@pytest.mark.parametrize("k, wells", [(27, "134,217,728"), (40, "1,099,511,627,776")])
def test_plates_with_too_many_drugs_are_refused(run_cli, tmp_path, k, wells):
    p = run_cli("score", "--data", _plate(tmp_path / f"k{k}.csv", k), "--response", "viability")
    assert_one_line_error(p, f"{k} drugs", f"{wells} wells", "fewer drugs per block")
