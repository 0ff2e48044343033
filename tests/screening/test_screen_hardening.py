"""mmmech screen under hostile conditions: wrong schedulers, edited inputs, tampered or malformed
journal rows, failed starts, reproducible JSON (issue 13: 4, 5, 6, 13, 20)."""

import json
import os
import socket
import subprocess
import sys
import threading

import pandas as pd
import pytest
from _helpers import NEUTRAL_CWD

from mmmech import pathways
from mmmech.exceptions import InvalidInputError, MmmechError, NetworkUnavailableError
from mmmech.screening import (
    JOURNAL_SUFFIX,
    JournalWarning,
    backends,
    journal,
    plan,
    planning,
    screen,
    tasks,
)

DRUGS = ["bortezomib", "lenalidomide", "venetoclax"]
KW = dict(drugs=DRUGS, size=2, ensemble=2, seed=3, metrics=("bliss", "zip"), progress=False)


@pytest.fixture(scope="module")
def reference():
    return screen(**KW)


def _same(a, b):
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True
    )


class _Boom(RuntimeError):
    pass


def _stop_after(n):
    real = tasks._run_chunk
    calls = {"n": 0}

    def run(spec, chunk):
        if calls["n"] >= n:
            raise _Boom("crash")
        calls["n"] += 1
        return real(spec, chunk)

    return run


def _interrupted(monkeypatch, out, n=2, **kw):
    """Run the screen until `n` chunks are journaled, then crash; the journal's lines."""
    with monkeypatch.context() as m:
        m.setattr(tasks, "_run_chunk", _stop_after(n))
        with pytest.raises(_Boom):
            screen(**{**KW, **kw}, out=out)
    with open(str(out) + JOURNAL_SUFFIX, "rb") as fh:
        return fh.read().split(b"\n")


# ---------------------------------------------------------------------- 13.4 schedulers
class _Listener:
    """A local TCP listener in a thread: 'silent' accepts and never answers, 'http' answers
    every connection like a web server (400 Bad Request)."""

    def __init__(self, kind):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.kind, self.stop, self.conns = kind, threading.Event(), []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(c)
            if self.kind == "http":
                try:
                    c.settimeout(5)
                    c.recv(4096)
                    c.sendall(
                        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                        b"Content-Length: 11\r\nConnection: close\r\n\r\nBad Request"
                    )
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


def _screen_in_thread(kwargs, limit=120.0):
    """Run screen() in a thread; what it raised (fails the test if it is still running after
    `limit` seconds: a hang)."""
    box = {}

    def run():
        try:
            box["result"] = screen(**kwargs)
        except BaseException as exc:
            box["error"] = exc

    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(limit)
    assert not th.is_alive(), "screen() hangs on this scheduler address"
    return box.get("error")


@pytest.mark.parametrize("kind", ["silent", "http"])
def test_a_scheduler_that_is_not_dask_is_one_clear_error(kind, tmp_path, monkeypatch):
    """A silent TCP listener (used to hang forever) and an HTTP server (used to make Dask try to
    allocate 3 EiB): both are 'cannot reach the Dask scheduler', within the timeout, and leave
    no journal behind."""
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(backends, "SCHEDULER_TIMEOUT", 3.0)
    srv = _Listener(kind)
    try:
        err = _screen_in_thread(
            dict(
                drugs=DRUGS,
                size=2,
                metrics="bliss",
                progress=False,
                scheduler=f"tcp://127.0.0.1:{srv.port}",
                out=tmp_path / "s.parquet",
            )
        )
    finally:
        srv.close()
    assert isinstance(err, NetworkUnavailableError), repr(err)
    msg = str(err)
    assert msg.startswith("screen(): cannot reach the Dask scheduler at") and "\n" not in msg
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "address, needle",
    [
        ("tcp://127.0.0.1:99999", "port number in 1-65535"),
        ("tcp://127.0.0.1:0", "port number in 1-65535"),
        ("tcp://127.0.0.1", "port number"),
        ("tcp://:8786", "a host"),
        ("http://127.0.0.1:8787", "scheme"),
        ("", "text"),
        (8786, "text"),
    ],
)
def test_scheduler_address_is_validated_before_trying(address, needle, tmp_path, monkeypatch):
    def never(*a, **k):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(backends, "_probe_scheduler", never)
    with pytest.raises(InvalidInputError, match=needle) as info:
        screen(DRUGS, size=2, scheduler=address, out=tmp_path / "s.csv")
    assert str(info.value).startswith("screen(): scheduler must be a Dask scheduler address")
    assert list(tmp_path.iterdir()) == []


def test_closed_port_is_network_unavailable(tmp_path, monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(backends, "SCHEDULER_TIMEOUT", 3.0)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    err = _screen_in_thread(
        dict(
            drugs=DRUGS,
            size=2,
            metrics="bliss",
            progress=False,
            scheduler=f"127.0.0.1:{port}",
            out=tmp_path / "s.csv",
        )
    )
    assert isinstance(err, NetworkUnavailableError), repr(err)
    assert list(tmp_path.iterdir()) == []


def test_cli_non_dask_scheduler_one_line(run_cli, tmp_path):
    srv = _Listener("http")
    try:
        p = run_cli(
            "screen",
            *DRUGS,
            "--size",
            "2",
            "--metric",
            "bliss",
            "--quiet",
            "--out",
            tmp_path / "s.csv",
            "--scheduler",
            f"tcp://127.0.0.1:{srv.port}",
            timeout=180,
        )
    finally:
        srv.close()
    from _helpers import assert_one_line_error

    assert_one_line_error(p, "cannot reach the dask scheduler")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- 13.13 failed starts
def test_failed_start_leaves_no_journal_and_does_not_block_another_screen(tmp_path, monkeypatch):
    """An unreachable scheduler used to leave a header-only journal that then refused a
    different screen to the same output ('belongs to a different screen')."""
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(backends, "SCHEDULER_TIMEOUT", 3.0)
    out = tmp_path / "s.csv"
    srv = _Listener("silent")
    try:
        err = _screen_in_thread(
            dict(
                drugs=DRUGS,
                size=2,
                metrics="bliss",
                progress=False,
                scheduler=f"tcp://127.0.0.1:{srv.port}",
                out=out,
            )
        )
    finally:
        srv.close()
    assert isinstance(err, NetworkUnavailableError)
    assert not os.path.exists(str(out) + JOURNAL_SUFFIX)
    df = screen(
        DRUGS, size=2, metrics="hsa", rank_by="hsa", seed=4, out=out, progress=False
    )  # another screen, same output
    assert len(df) == 3 and sorted(os.listdir(tmp_path)) == ["s.csv"]


def test_failed_start_with_restart_keeps_the_old_journal(tmp_path, monkeypatch, reference):
    """--restart discards the old journal only once the new screen can start."""
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(backends, "SCHEDULER_TIMEOUT", 3.0)
    out = tmp_path / "s.csv"
    before = _interrupted(monkeypatch, out)
    srv = _Listener("http")
    try:
        err = _screen_in_thread(
            dict(
                drugs=DRUGS,
                size=2,
                metrics="bliss",
                seed=9,
                progress=False,
                restart=True,
                out=out,
                scheduler=f"tcp://127.0.0.1:{srv.port}",
            )
        )
    finally:
        srv.close()
    assert isinstance(err, NetworkUnavailableError)
    with open(str(out) + JOURNAL_SUFFIX, "rb") as fh:
        assert fh.read().split(b"\n") == before  # untouched
    df = screen(**KW, out=out)  # and it still resumes
    assert df.attrs["resumed"] == 2
    _same(df, reference)


# ---------------------------------------------------------------------- 13.5 content
def _model_copy(tmp_path, weight="1.0"):
    src = pathways.load("myeloma").origin
    text = open(src, encoding="utf-8").read()
    old = "[parameters.pi_nfkb_weight]\ndefault = 0.3"
    assert old in text
    p = tmp_path / "m.toml"
    p.write_text(
        text.replace(old, f"[parameters.pi_nfkb_weight]\ndefault = {weight}"), encoding="utf-8"
    )
    return p


def test_fingerprint_follows_the_model_content_not_its_path(tmp_path):
    m = _model_copy(tmp_path)
    a = plan(DRUGS, size=2, model=str(m)).fingerprint
    m.write_text(
        m.read_text(encoding="utf-8").replace(
            "[parameters.pi_nfkb_weight]\ndefault = 1.0",
            "[parameters.pi_nfkb_weight]\ndefault = 0.0",
        ),
        encoding="utf-8",
    )
    b = plan(DRUGS, size=2, model=str(m)).fingerprint
    assert a != b
    # the same content under another name and as a parsed object: the same content digest
    p1 = plan(DRUGS, size=2, model=str(m))
    obj = pathways.read(str(m))
    p2 = plan(DRUGS, size=2, model=obj)
    assert p1.config["content_sha256"]["model"] == p2.config["content_sha256"]["model"]


def test_fingerprint_is_the_same_in_another_process(tmp_path):
    """Content digests are process-independent (no memory addresses, no hash seeds), so a
    screen resumed in a new process is recognised."""
    m = _model_copy(tmp_path)
    here = plan(
        DRUGS, size=2, contexts=["cell_line", "marrow"], model=str(m), ensemble=3, seed=2
    ).fingerprint
    code = (
        "import sys; from mmmech.screening import plan; "
        f"print(plan({DRUGS!r}, size=2, contexts=['cell_line', 'marrow'], model=sys.argv[1], "
        "ensemble=3, seed=2).fingerprint)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(m)],
        capture_output=True,
        text=True,
        cwd=NEUTRAL_CWD,
        timeout=300,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == here


def test_fingerprint_ignores_caches_filled_in_the_process():
    """A drug's lazily parsed RDKit molecule is a cache, not content: using it (as `mmmech drugs
    show` does) must not make the screen look different to a fresh process."""
    import dataclasses

    from mmmech import drugs

    d = dataclasses.replace(drugs.get("bortezomib"), _mol_cache={})
    before = planning._digest(d)
    assert d.mol is not None and d._mol_cache  # the cache is now filled
    assert planning._digest(d) == before
    other = dataclasses.replace(d, reference_nM=d.reference_nM * 2, _mol_cache={})
    assert planning._digest(other) != before  # content still counts


def test_resume_refuses_rows_computed_with_an_edited_model(tmp_path, monkeypatch):
    m = _model_copy(tmp_path)
    out = tmp_path / "s.csv"
    _interrupted(monkeypatch, out, model=str(m))
    m.write_text(
        m.read_text(encoding="utf-8").replace(
            "[parameters.pi_nfkb_weight]\ndefault = 1.0",
            "[parameters.pi_nfkb_weight]\ndefault = 0.0",
        ),
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError, match="different screen"):
        screen(**KW, model=str(m), out=out)
    fresh = screen(**KW, model=str(m))
    df = screen(**KW, model=str(m), out=out, restart=True)
    _same(df, fresh)


def test_resume_refuses_rows_computed_with_an_edited_context(tmp_path, monkeypatch):
    ctx = tmp_path / "c.toml"
    ctx.write_text('[context]\nname = "mine"\n[set]\nIL6 = 0.2\n', encoding="utf-8")
    out = tmp_path / "s.csv"
    _interrupted(monkeypatch, out, n=1, contexts=[str(ctx)])
    ctx.write_text('[context]\nname = "mine"\n[set]\nIL6 = 0.9\n', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="different screen"):
        screen(**KW, contexts=[str(ctx)], out=out)


# ---------------------------------------------------------------------- 13.6 row integrity
def _rewrite(out, fn):
    path = str(out) + JOURNAL_SUFFIX
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    lines = fn(lines)
    with open(path, "wb") as fh:
        fh.write(b"\n".join(lines))


def _edit_row(i, edit):
    def fn(lines):
        row = json.loads(lines[i])
        edit(row)
        lines[i] = json.dumps(row).encode()
        return lines

    return fn


@pytest.mark.parametrize(
    "case", ["tampered", "null", "text", "missing", "key_only", "garbage", "bool_size"]
)
def test_bad_journal_rows_are_recomputed_with_a_warning(case, tmp_path, monkeypatch, reference):
    out = tmp_path / "s.parquet"
    _interrupted(monkeypatch, out, n=2)
    edits = {
        "tampered": _edit_row(1, lambda r: r.update(bliss=99.0, bliss_mean=99.0)),
        "null": _edit_row(1, lambda r: r.update(bliss_mean=None, sha256=None)),
        "text": _edit_row(1, lambda r: r.update(bliss_mean="abc")),
        "missing": _edit_row(1, lambda r: r.pop("context")),
        "bool_size": _edit_row(1, lambda r: r.update(size=True)),
        "key_only": lambda lines: (
            [lines[0], json.dumps({"key": json.loads(lines[1])["key"]}).encode()] + lines[1:]
        ),
        "garbage": lambda lines: [lines[0], b"\x00\xff{not json"] + lines[1:],
    }
    _rewrite(out, edits[case])
    if case == "null":  # a row whose checksum was recomputed after the edit

        def fix(lines):
            row = json.loads(lines[1])
            row.pop("sha256")
            row["sha256"] = journal._row_checksum(row)
            lines[1] = json.dumps(row).encode()
            return lines

        _rewrite(out, fix)
    seen = []
    real = tasks._run_chunk

    def counting(spec, chunk):
        seen.extend(tasks._task_key(spec, tuple(c), int(i)) for c, i in chunk)
        return real(spec, chunk)

    monkeypatch.setattr(tasks, "_run_chunk", counting)
    if case in ("key_only", "garbage"):
        expect_recomputed = 3 - 2  # the real rows are intact
    else:
        expect_recomputed = 3 - 1
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = screen(**KW, out=out)
    got = [str(w.message) for w in caught if issubclass(w.category, JournalWarning)]
    if case == "key_only":  # a bad copy before the good row: the good row is used
        assert got == []
    else:
        assert len(got) == 1 and "1 row(s)" in got[0] and "integrity check" in got[0], got
    assert len(seen) == expect_recomputed
    _same(df, reference)
    _same(pd.read_parquet(out), reference)
    assert not os.path.exists(str(out) + JOURNAL_SUFFIX)


def test_cli_tampered_row_warns_in_one_line(run_cli, tmp_path, monkeypatch, reference):
    out = tmp_path / "s.csv"
    _interrupted(monkeypatch, out, n=1)
    _rewrite(out, _edit_row(1, lambda r: r.update(bliss=99.0)))
    p = run_cli(
        "screen",
        *DRUGS,
        "--size",
        "2",
        "--ensemble",
        "2",
        "--seed",
        "3",
        "--metric",
        "bliss",
        "--out",
        out,
        "--quiet",
        "--json",
    )
    # --metric bliss is another screen than KW (bliss + zip): refused, journal kept
    assert p.returncode == 2 and "different screen" in p.stderr
    # the same screen through the API: warns, recomputes, equals the reference
    with pytest.warns(JournalWarning):
        df = screen(**KW, out=out)
    _same(df, reference)


def test_journal_path_that_is_a_folder_is_one_line(tmp_path):
    out = tmp_path / "s.csv"
    os.mkdir(str(out) + JOURNAL_SUFFIX)
    with pytest.raises(MmmechError, match="s.csv.partial.*is a folder"):
        screen(**KW, out=out)


def test_journal_of_an_older_format_is_named(tmp_path):
    out = tmp_path / "s.csv"
    with open(str(out) + JOURNAL_SUFFIX, "w") as fh:
        fh.write(json.dumps({"mmmech_screen_journal": 1, "fingerprint": "x", "config": {}}) + "\n")
    with pytest.raises(InvalidInputError, match="format version 1"):
        screen(**KW, out=out)


# ---------------------------------------------------------------------- 13.20 reproducible JSON
def test_cli_screen_json_is_byte_identical_between_identical_runs(run_cli, tmp_path):
    args = [
        "screen",
        *DRUGS,
        "--size",
        "2",
        "--ensemble",
        "2",
        "--seed",
        "3",
        "--metric",
        "bliss",
        "--out",
        tmp_path / "s.csv",
        "--quiet",
        "--json",
    ]
    a = run_cli(*args)
    b = run_cli(*args)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert a.stdout == b.stdout
    doc = json.loads(a.stdout)
    assert "timings_s" not in doc and doc["rows"] == 3
    c = run_cli(*args, "--timings")
    doc = json.loads(c.stdout)
    assert set(doc["timings_s"]) >= {"setup", "kernel", "scoring", "wall"}
    assert "timings (s):" in c.stderr
    assert {k: v for k, v in doc.items() if k != "timings_s"} == json.loads(a.stdout)


def test_cli_score_ensemble_and_seed(run_cli):
    """`mmmech score --ensemble M --seed S` (used to be a usage error) reports what
    score(..., ensemble=M, seed=S) does; --help documents both."""
    from mmmech.scoring import score

    p = run_cli(
        "score",
        "bortezomib",
        "venetoclax",
        "--metric",
        "bliss",
        "--ensemble",
        "3",
        "--seed",
        "2",
        "--interval",
        "0.8",
        "--json",
    )
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    r = score(["bortezomib", "venetoclax"], metrics="bliss", ensemble=3, seed=2, interval=0.8)
    assert doc["ensemble"]["bliss"] == pytest.approx(r.ensemble["bliss"])
    assert doc["intervals"]["bliss"] == pytest.approx(
        [r.ensemble["bliss"]["low"], r.ensemble["bliss"]["high"]]
    )
    other = json.loads(
        run_cli(
            "score",
            "bortezomib",
            "venetoclax",
            "--metric",
            "bliss",
            "--ensemble",
            "3",
            "--seed",
            "5",
            "--json",
        ).stdout
    )
    assert other["ensemble"]["bliss"]["mean"] != doc["ensemble"]["bliss"]["mean"]
    h = run_cli("score", "--help").stdout
    assert "--ensemble" in h and "--seed" in h and "--points" in h
    from _helpers import assert_one_line_error

    assert_one_line_error(
        run_cli("score", "bortezomib", "venetoclax", "--ensemble", "2", "--interval", "1.5"),
        "interval",
    )
    assert_one_line_error(
        run_cli("score", "--data", "x.csv", "--response", "viability", "--ensemble", "3"),
        "--ensemble",
    )
