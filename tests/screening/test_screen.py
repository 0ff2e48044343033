"""mmmech screen: every combination ranked, deterministic across backends, lossless on interrupt."""

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
from _helpers import assert_one_line_error
from hypothesis import given, settings
from hypothesis import strategies as st

import mmmech
from mmmech.exceptions import InvalidInputError, MmmechError, UnknownContextError, UnknownDrugError
from mmmech.model import Simulator
from mmmech.screening import JOURNAL_SUFFIX, ensemble_params, read_drug_list, screen, tasks
from mmmech.screening import progress as screen_progress

DRUGS = ["bortezomib", "lenalidomide", "venetoclax"]
KW = dict(drugs=DRUGS, size=2, contexts=["cell_line", "marrow"], ensemble=3, seed=7)
N_TASKS = 6  # 3 pairs x 2 contexts


@pytest.fixture(scope="module")
def reference():
    """The uninterrupted in-process run every other backend and resumed run must equal."""
    return screen(**KW)


def _same(a, b):
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True
    )


# ---------------------------------------------------------------------- what a row holds
def test_rows_ranked_within_each_context(reference):
    df = reference
    assert len(df) == N_TASKS
    assert set(df["context"]) == {"cell_line", "marrow"}
    for _ctx, block in df.groupby("context"):
        assert block["rank"].tolist() == list(range(1, len(block) + 1))
        scores = block["bliss_mean"].to_numpy()
        assert np.all(np.diff(scores) <= 0)  # most synergistic first
        assert sorted(block["combination"]) == sorted(
            ["bortezomib + lenalidomide", "bortezomib + venetoclax", "lenalidomide + venetoclax"]
        )
    for m in ("bliss", "hsa", "loewe", "zip"):
        assert np.all(df[f"{m}_low"] <= df[f"{m}_high"])
        assert np.all(np.isfinite(df[[m, f"{m}_mean"]].to_numpy()))
    assert (df["members"] == 3).all()
    assert df.attrs["rank_by"] == "bliss_mean"


def test_curated_scores_equal_mmmech_score(reference):
    """Each row's curated scores are exactly what `mmmech.score` reports for that combination."""
    for r in reference.itertuples(index=False):
        res = mmmech.score([r.drug_1, r.drug_2], context=r.context)
        for m in ("bliss", "hsa", "loewe", "zip"):
            assert getattr(r, m) == res.scores[m], (r.combination, r.context, m)
        assert r.effect_combination == res.effect["combination"]
        assert r.effect_best_single == max(res.effect[r.drug_1], res.effect[r.drug_2])
        assert r.converged == res.converged


def test_curated_scores_do_not_depend_on_the_ensemble(reference):
    plain = screen(DRUGS, size=2, contexts=["cell_line", "marrow"], metrics=["bliss", "zip"])
    ref = reference.sort_values(["context", "combination"]).reset_index(drop=True)
    got = plain.sort_values(["context", "combination"]).reset_index(drop=True)
    for m in ("bliss", "zip"):
        assert got[m].tolist() == ref[m].tolist()
    assert "bliss_mean" not in plain.columns and (plain["members"] == 1).all()


def test_mixed_sizes_and_triplet_equals_score():
    df = screen(DRUGS, size=(3, 2), metrics="bliss")
    assert sorted(df["size"].tolist()) == [2, 2, 2, 3]
    trip = df[df["size"] == 3].iloc[0]
    assert [trip.drug_1, trip.drug_2, trip.drug_3] == DRUGS
    assert trip["bliss"] == mmmech.score(DRUGS, metrics="bliss").scores["bliss"]
    assert df.loc[df["size"] == 2, "drug_3"].isna().all()


# ---------------------------------------------------------------------- ensembles
def _edge_map(sim, ens):
    cm = sim.compiled
    out = {}
    for e in sim.model.edges:
        k = cm.edge_index(e.source, e.target)
        out[(e.source, e.target)] = (ens.w[:, k].copy(), ens.ec50[:, k].copy())
    return out


def _potency_map(sim, ens):
    return {
        (c["drug"], c["target"]): ens.potency_multiplier[:, j] for j, c in enumerate(sim.columns)
    }


def test_ensemble_same_variants_for_every_combination_and_context():
    a = Simulator("myeloma", ["dexamethasone", "bortezomib"], context="cell_line")
    b = Simulator("myeloma", ["selinexor", "dexamethasone", "elotuzumab"], context="marrow")
    ea, eb = ensemble_params(a, 5, seed=3), ensemble_params(b, 5, seed=3)
    ma, mb = _edge_map(a, ea), _edge_map(b, eb)
    assert ma.keys() == mb.keys()
    for key in ma:
        np.testing.assert_array_equal(ma[key][0], mb[key][0])
        np.testing.assert_array_equal(ma[key][1], mb[key][1])
    pa, pb = _potency_map(a, ea), _potency_map(b, eb)
    np.testing.assert_array_equal(pa[("dexamethasone", "NR3C1")], pb[("dexamethasone", "NR3C1")])
    assert len(set(pa[("dexamethasone", "NR3C1")][1:])) == 4  # dexamethasone's range varies
    # one affinity per drug and target: elotuzumab's two SLAMF7 columns vary together
    cols = [j for j, c in enumerate(b.columns) if c["drug"] == "elotuzumab"]
    assert len(cols) >= 2
    for j in cols[1:]:
        np.testing.assert_array_equal(
            eb.potency_multiplier[:, j], eb.potency_multiplier[:, cols[0]]
        )
    # set 0 is the curated model
    cm = a.compiled
    for name in ("w", "n", "ec50", "tau", "ymax"):
        np.testing.assert_array_equal(getattr(ea, name)[0], getattr(cm.params, name)[0])
    assert (ea.potency_multiplier[0] == 1).all()
    # a different seed gives different variants
    assert not np.array_equal(ensemble_params(a, 5, seed=4).w, ea.w)


def test_ensemble_larger_ensemble_extends_smaller():
    sim = Simulator("myeloma", ["selinexor", "vorinostat"], context="marrow")
    small, big = ensemble_params(sim, 3, seed=11), ensemble_params(sim, 7, seed=11)
    for name in ("w", "n", "ec50", "tau", "ymax", "potency_multiplier"):
        np.testing.assert_array_equal(getattr(small, name), getattr(big, name)[:3])


_SIM = {}


def _sim():
    if "s" not in _SIM:
        _SIM["s"] = Simulator(
            "myeloma", ["selinexor", "vorinostat", "elotuzumab"], context="marrow"
        )
    return _SIM["s"]


@settings(max_examples=25, deadline=None)
@given(M=st.integers(1, 12), seed=st.integers(0, 2**32 - 1), spread=st.floats(0.0, 0.9))
def test_ensemble_stays_within_recorded_ranges(M, seed, spread):
    sim = _sim()
    ens = ensemble_params(sim, M, seed=seed, spread=spread)
    cm = sim.compiled
    w0 = cm.params.w[0]
    assert ens.w.shape == (M, cm.n_edges)
    assert np.all((ens.w >= 0) & (ens.w <= 1))
    assert np.all(ens.ec50**ens.n < 0.5 + 1e-12)
    for e in sim.model.edges:
        k = cm.edge_index(e.source, e.target)
        if e.parameter is not None:
            p = sim.model.parameters[e.parameter]
            assert np.all((ens.w[1:, k] >= p.low) & (ens.w[1:, k] <= p.high))
        else:
            assert np.all(ens.w[1:, k] >= w0[k] * (1 - spread) - 1e-12)
            assert np.all(ens.w[1:, k] <= min(1.0, w0[k] * (1 + spread)) + 1e-12)
    for j, c in enumerate(sim.columns):
        lo, hi = c["potency_range"] or (1.0, 1.0)
        assert np.all(ens.potency_multiplier[:, j] >= lo * (1 - 1e-12))
        assert np.all(ens.potency_multiplier[:, j] <= hi * (1 + 1e-12))


def test_ensemble_params_bad_input():
    sim = _sim()
    with pytest.raises(InvalidInputError, match="M must be a positive integer"):
        ensemble_params(sim, 0)
    with pytest.raises(InvalidInputError, match="seed"):
        ensemble_params(sim, 3, seed=-1)
    with pytest.raises(InvalidInputError, match="spread"):
        ensemble_params(sim, 3, spread=1.5)
    with pytest.raises(InvalidInputError, match="Simulator"):
        ensemble_params("myeloma", 3)


# ---------------------------------------------------------------------- backends and chunking
def test_chunk_size_does_not_change_results(reference):
    _same(screen(**KW, chunk_size=4), reference)


def test_dask_two_workers_equal_in_process(reference):
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        got = screen(**KW, client=client, chunk_size=2)
    _same(got, reference)


def test_dask_local_process_cluster_equal_in_process(reference):
    pytest.importorskip("dask.distributed")
    got = screen(**KW, workers=2, chunk_size=3)
    _same(got, reference)


_SLOW_WORKER = """
import time
from mmmech.screening import tasks
_real = tasks._run_chunk
def _slow(spec, chunk):
    time.sleep(0.5)
    return _real(spec, chunk)
tasks._run_chunk = _slow
"""


def test_killed_dask_worker_loses_nothing(reference):
    """A worker process killed mid-run: Dask reruns its task elsewhere; same table."""
    distributed = pytest.importorskip("dask.distributed")
    import threading

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(exec, _SLOW_WORKER, {})  # pace the tasks so the kill lands mid-run
        victim = sorted(client.run(os.getpid).values())[0]
        timer = threading.Timer(1.0, os.kill, (victim, signal.SIGKILL))
        timer.start()
        try:
            got = screen(**KW, client=client)
        finally:
            timer.cancel()
        assert victim not in client.run(os.getpid).values()  # the worker really died
    _same(got, reference)


def test_existing_scheduler_address(reference):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
    ) as cluster:
        got = screen(**KW, scheduler=cluster.scheduler_address, chunk_size=6)
    _same(got, reference)


def test_unreachable_scheduler_is_a_clear_error():
    pytest.importorskip("dask.distributed")
    # not an address at all: bad input, refused before anything is tried
    with pytest.raises(InvalidInputError, match="scheduler must be a Dask scheduler address"):
        screen(DRUGS, scheduler="bogus://nowhere")


# ---------------------------------------------------------------------- output files
def _no_leftovers(folder, keep):
    assert sorted(os.listdir(folder)) == sorted(keep), os.listdir(folder)


def test_parquet_output_round_trips(tmp_path, reference):
    out = tmp_path / "screen.parquet"
    df = screen(**KW, out=out)
    _same(df, reference)
    back = pd.read_parquet(out)
    _same(back, df)
    import pyarrow.parquet as pq

    meta = json.loads(pq.read_schema(out).metadata[b"mmmech"])
    assert meta["config"]["drugs"] == DRUGS and meta["config"]["seed"] == 7
    _no_leftovers(tmp_path, ["screen.parquet"])
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(out).st_mode & 0o777 == 0o666 & ~umask


def test_csv_output_round_trips(tmp_path):
    out = tmp_path / "screen.csv"
    df = screen(DRUGS, size=2, metrics=["bliss", "hsa"], out=str(out))
    # round_trip: pandas' default C float parser is not exact in the last bit for some values
    # (6.282289341528879 read as 6.2822893415288785); the file itself holds every bit
    back = pd.read_csv(
        out,
        keep_default_na=False,
        na_values={"bliss": [""], "hsa": [""]},
        float_precision="round_trip",
    )
    assert back["combination"].tolist() == df["combination"].tolist()
    assert back["bliss"].tolist() == df["bliss"].tolist()
    assert back["rank"].tolist() == [1, 2, 3]
    _no_leftovers(tmp_path, ["screen.csv"])


# ---------------------------------------------------------------------- interruption
class _Boom(Exception):
    pass


_REAL_RUN_CHUNK = tasks._run_chunk


def _failing_after(n, exc):
    real = _REAL_RUN_CHUNK
    calls = {"n": 0}

    def run(spec, chunk):
        if calls["n"] >= n:
            raise exc
        calls["n"] += 1
        return real(spec, chunk)

    return run


def _counting():
    real = _REAL_RUN_CHUNK
    seen = []

    def run(spec, chunk):
        seen.extend(tasks._task_key(spec, tuple(c), int(i)) for c, i in chunk)
        return real(spec, chunk)

    return run, seen


def _journal_rows(path):
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    header = json.loads(lines[0])
    rows = [json.loads(x) for x in lines[1:] if x.strip()]
    return header, rows


@pytest.mark.parametrize("exc", [_Boom("crash"), KeyboardInterrupt()])
def test_interrupted_run_resumes_without_recomputing(tmp_path, monkeypatch, reference, exc):
    out = tmp_path / "s.parquet"
    monkeypatch.setattr(tasks, "_run_chunk", _failing_after(2, exc))
    with pytest.raises(type(exc)):
        screen(**KW, out=out)
    assert not out.exists()  # never a half-written final file
    journal = str(out) + JOURNAL_SUFFIX
    header, rows = _journal_rows(journal)
    assert len(rows) == 2 and header["mmmech_screen_journal"] == 2
    run, seen = _counting()
    monkeypatch.setattr(tasks, "_run_chunk", run)
    df = screen(**KW, out=out)
    assert len(seen) == N_TASKS - 2  # finished rows are not recomputed
    assert not set(seen) & {r["key"] for r in rows}
    assert df.attrs["resumed"] == 2 and df.attrs["computed"] == N_TASKS - 2
    _same(df, reference)
    _same(pd.read_parquet(out), reference)
    assert not os.path.exists(journal)


def test_torn_journal_line_is_dropped(tmp_path, monkeypatch, reference):
    out = tmp_path / "s.csv"
    monkeypatch.setattr(tasks, "_run_chunk", _failing_after(3, _Boom("crash")))
    with pytest.raises(_Boom):
        screen(**KW, out=out, chunk_size=1)
    journal = str(out) + JOURNAL_SUFFIX
    with open(journal, "ab") as fh:  # a crash in the middle of a write
        fh.write(b'{"key": "marrow|bortezomib+venetoclax", "bliss": 1.')
    monkeypatch.undo()
    run, seen = _counting()
    monkeypatch.setattr(tasks, "_run_chunk", run)
    df = screen(**KW, out=out)
    assert len(seen) == N_TASKS - 3
    _same(df, reference)
    assert sorted(df["context"] + "|" + df["combination"]) == sorted(
        set(df["context"] + "|" + df["combination"])
    )  # every combination exactly once


_CHILD = textwrap.dedent("""
    import sys, time
    from mmmech import screening
    from mmmech.screening import tasks
    real = tasks._run_chunk
    def slow(spec, chunk):
        time.sleep(0.4)               # pace the run so it can be killed midway
        return real(spec, chunk)
    tasks._run_chunk = slow
    screening.screen({drugs!r}, size=2, contexts={contexts!r}, ensemble={ensemble},
                     seed={seed}, out=sys.argv[1], progress=False)
""")


def test_killed_process_resumes_with_every_combination_once(tmp_path, reference):
    out = tmp_path / "killed.parquet"
    journal = str(out) + JOURNAL_SUFFIX
    code = _CHILD.format(
        drugs=KW["drugs"], contexts=KW["contexts"], ensemble=KW["ensemble"], seed=KW["seed"]
    )
    from _helpers import NEUTRAL_CWD

    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(out)], stderr=subprocess.PIPE, cwd=NEUTRAL_CWD
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if os.path.exists(journal) and len(_journal_rows(journal)[1]) >= 2:
                    break
            except ValueError:  # caught mid-write (the header or a row): look again
                pass
            if proc.poll() is not None:
                pytest.fail(f"the child ended early: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert not out.exists()
    with open(journal, "rb") as fh:  # complete lines only (the kill may cut one short)
        done = fh.read().count(b"\n") - 1
    assert 2 <= done < N_TASKS
    df = screen(**KW, out=out)
    assert df.attrs["resumed"] == done and df.attrs["computed"] == N_TASKS - done
    _same(df, reference)
    assert len(set(zip(df["context"], df["combination"], strict=False))) == N_TASKS


def test_journal_of_another_screen_is_not_mixed_in(tmp_path, monkeypatch):
    out = tmp_path / "s.csv"
    monkeypatch.setattr(tasks, "_run_chunk", _failing_after(1, _Boom("crash")))
    with pytest.raises(_Boom):
        screen(DRUGS, size=2, metrics="bliss", out=out)
    monkeypatch.undo()
    with pytest.raises(InvalidInputError, match="different screen"):
        screen(DRUGS, size=2, metrics="bliss", seed=1, ensemble=2, out=out)
    df = screen(DRUGS, size=2, metrics="bliss", seed=1, ensemble=2, out=out, restart=True)
    assert df.attrs["resumed"] == 0 and len(df) == 3
    _no_leftovers(tmp_path, ["s.csv"])


def test_journal_that_is_not_a_journal(tmp_path):
    out = tmp_path / "s.csv"
    (tmp_path / ("s.csv" + JOURNAL_SUFFIX)).write_text("hello\n")
    with pytest.raises(InvalidInputError, match="not a screen journal"):
        screen(DRUGS, size=2, metrics="bliss", out=out)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, exc, needles",
    [
        (dict(drugs=["bortezomb", "lenalidomide"]), UnknownDrugError, ["bortezomb", "bortezomib"]),
        (
            dict(drugs=["bortezomib", "Velcade", "lenalidomide"]),
            InvalidInputError,
            ["listed twice", "Velcade"],
        ),
        (dict(drugs=["bortezomib"]), InvalidInputError, ["at least two drugs"]),
        (
            dict(drugs=["bortezomib", "lenalidomide"], size=3),
            InvalidInputError,
            ["K=3", "at least 3 drugs"],
        ),
        (dict(drugs=DRUGS, size=5), InvalidInputError, ["2, 3 or 4", "5"]),
        (dict(drugs=DRUGS, size=1), InvalidInputError, ["2, 3 or 4"]),
        (dict(drugs=DRUGS, size="2"), InvalidInputError, ["2, 3 or 4"]),
        (dict(drugs="bortezomib"), InvalidInputError, ["list of drug names"]),
        (dict(drugs=DRUGS, contexts=["marow"]), UnknownContextError, ["marow", "marrow"]),
        (dict(drugs=DRUGS, contexts=["marrow", "marrow"]), InvalidInputError, ["twice"]),
        (dict(drugs=DRUGS, out="x.xlsx"), InvalidInputError, [".parquet", ".csv", "x.xlsx"]),
        (dict(drugs=DRUGS, out="/no/such/folder/x.csv"), InvalidInputError, ["does not exist"]),
        (dict(drugs=DRUGS, metrics=["bliss"], rank_by="zip"), InvalidInputError, ["rank_by"]),
        (dict(drugs=DRUGS, metrics=["blis"]), InvalidInputError, ["bliss"]),
        (dict(drugs=DRUGS, ensemble=-1), InvalidInputError, ["ensemble"]),
        (dict(drugs=DRUGS, seed=-3), InvalidInputError, ["seed"]),
        (dict(drugs=DRUGS, workers=-1), InvalidInputError, ["workers"]),
        (dict(drugs=DRUGS, chunk_size=0), InvalidInputError, ["chunk_size"]),
        (dict(drugs=DRUGS, knockouts=["PSMB55"]), MmmechError, ["PSMB55", "PSMB5"]),
        (
            dict(drugs=DRUGS, doses={"dexamethasone": [1, 10, 100]}),
            InvalidInputError,
            ["dexamethasone", "not in the drug list"],
        ),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, exc, needles, tmp_path):
    with pytest.raises(exc) as info:
        screen(**kwargs)
    msg = str(info.value)
    assert msg.startswith("screen()"), msg
    for n in needles:
        assert n.lower() in msg.lower(), (n, msg)


def test_read_drug_list(tmp_path):
    p = tmp_path / "drugs.txt"
    p.write_text("# candidates\nbortezomib\n\n  lenalidomide  # IMiD\nvenetoclax\n")
    assert read_drug_list(p) == DRUGS
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    with pytest.raises(InvalidInputError, match="names no drug"):
        read_drug_list(tmp_path / "empty.txt")
    with pytest.raises(InvalidInputError, match="cannot read"):
        read_drug_list(tmp_path / "missing.txt")


# ---------------------------------------------------------------------- progress
class _Stream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self._tty = tty

    def isatty(self):
        return self._tty


def test_progress_plain_lines_when_not_a_tty():
    s = _Stream(False)
    bar = screen_progress._Progress(20, 0, stream=s)
    for _ in range(20):
        bar.update(1)
    bar.close()
    lines = s.getvalue().splitlines()
    assert "\r" not in s.getvalue()
    assert 3 <= len(lines) <= 12  # periodic (every 10%), not every row
    assert lines[-1].startswith("screen [") and "20/20 (100%)" in lines[-1]
    assert "rows/s" in lines[-1] and "ETA" in lines[-1]


def test_progress_redraws_in_place_on_a_tty():
    s = _Stream(True)
    bar = screen_progress._Progress(5, 2, stream=s)  # 2 rows resumed from a journal
    bar.update(3)
    bar.close()
    out = s.getvalue()
    assert out.count("\r") >= 2 and out.endswith("\n")
    assert "5/5 (100%)" in out and "2/5" in out


def test_progress_eta_weighs_rows_by_their_cost(monkeypatch):
    clock = iter([0.0, 0.0, 10.0, 10.0, 10.0])
    monkeypatch.setattr(screen_progress.time, "monotonic", lambda: next(clock))
    s = _Stream(False)
    bar = screen_progress._Progress(2, 0, stream=s, work_total=100.0, work_done=0.0)
    bar.update(1, work=10.0)  # a cheap pair done in 10 s; a 9x costlier triplet remains
    assert "1/2 (50%)" in s.getvalue() and "ETA 0:01:30" in s.getvalue()


# ---------------------------------------------------------------------- CLI
def test_cli_screen_writes_the_table(run_cli, tmp_path):
    lst = tmp_path / "drugs.txt"
    lst.write_text("bortezomib\n# a comment\nlenalidomide\n")
    out = tmp_path / "s.csv"
    proc = run_cli(
        "screen",
        "venetoclax",
        "--drugs-file",
        lst,
        "--size",
        "2",
        "--metric",
        "bliss",
        "--out",
        out,
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["rows"] == 3 and payload["out"] == str(out)
    assert payload["drugs"] == ["venetoclax", "bortezomib", "lenalidomide"]
    assert payload["rank_by"] == "bliss" and [r["rank"] for r in payload["top"]] == [1, 2, 3]
    assert "screen [" in proc.stderr and "wrote" in proc.stderr
    df = pd.read_csv(out)
    assert df["combination"].tolist() == [r["combination"] for r in payload["top"]]
    _no_leftovers(tmp_path, ["drugs.txt", "s.csv"])


@pytest.mark.parametrize(
    "args, needles",
    [
        (["bortezomb", "lenalidomide", "--size", "2"], ["bortezomb", "bortezomib"]),
        (["bortezomib", "lenalidomide", "--size", "3"], ["K=3", "at least 3"]),
        (["bortezomib", "lenalidomide", "--size", "5"], ["2, 3 or 4"]),
        (["bortezomib", "lenalidomide", "--size", "2", "--context", "marow"], ["marrow"]),
        (["bortezomib", "bortezomib", "--size", "2"], ["listed twice"]),
        (["--size", "2"], ["name the drugs"]),
    ],
)
def test_cli_bad_input_one_line_exit_2(run_cli, tmp_path, args, needles):
    proc = run_cli("screen", *args, "--out", tmp_path / "x.csv")
    assert_one_line_error(proc, *needles)
    assert os.listdir(tmp_path) == []


def test_cli_bad_extension(run_cli, tmp_path):
    proc = run_cli(
        "screen", "bortezomib", "lenalidomide", "--size", "2", "--out", tmp_path / "x.xlsx"
    )
    assert_one_line_error(proc, ".parquet", ".csv")
