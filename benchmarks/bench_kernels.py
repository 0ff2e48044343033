"""Benchmark of the kernels against their anchors, side by side in one process.

1. Logic-ODE steady states of many regimens on the bundled myeloma model (drugs attached
   through their occupancies; if the model cannot be loaded the benchmark stops with the
   reason, it never measures another network instead): the Cython kernel with 1 and 2
   threads, the NumPy backend (batched) and two per-regimen
   ``scipy.integrate.solve_ivp(method="LSODA")`` anchors with matched accuracy (rtol, atol
   and the same stopping rule as a terminal event):

   * **exported** (the fair anchor, what a modeller would write): the model exported as
     straight-line code, one expression per node with the parameters as literals, as the
     Netflux and BoolNet-to-ODE exporters generate; the source text is generated and compiled
     once (``export_rhs``);
   * **interpreter**: the NumPy reference's generic interpreter of the compiled rule programs
     (about 1 ms per right-hand-side call), kept for comparison with earlier figures.

   LSODA is timed on a subset and scaled per regimen; the NumPy backend on all regimens (or a
   subset with ``--quick``). Also nanoseconds per edge evaluation (fixed-step RK4, where the
   number of derivative evaluations is exact), and thread scaling: 1 and 2 threads timed in
   alternation with the load average read at each run.
2. Random networks of 100 to 10,000 nodes: cost against size and number of regimens.
3. Linear signed propagation (``mmmech.simulation.diffusion.diffuse``) on a random 10,000-node /
   100,000-edge signed graph with 256 regimens and on the OmniPath network in
   ../shared/data/networks (skipped when absent): the Cython kernel (1 and 2 threads) against
   the scipy.sparse reference with the same number of iterations, and against networkx's
   personalized PageRank run per regimen (on the unsigned graph; timed on a subset).

Timings are wall-clock medians of a few runs; the machine's load average is recorded next to
them (the 2 cores may be shared). Nothing here is a test: no timing is asserted.

Run: ``python benchmarks/bench_kernels.py [--quick] [--json-out FILE]`` from any working
directory; prints a table of times and ratios and writes benchmarks/results/kernels.json (next
to this script).
"""

import argparse
import csv
import json
import os
import pathlib
import platform
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("MMMECH_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "benchmarks" / "results" / "kernels.json"

DRUGS = ["bortezomib", "lenalidomide", "dexamethasone", "venetoclax"]


def load():
    """1-minute load average (None where the OS does not say)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def timed(func, repeat=3):
    """(median wall seconds, last result) of `repeat` calls."""
    times, out = [], None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


# ---------------------------------------------------------------------------- logic ODE


class BenchmarkSetupError(RuntimeError):
    """The benchmark cannot measure what it says it measures (it stops instead)."""


def myeloma_case(n_regimens, seed=0):
    """(compiled model, fixed_mask, fixed_value), description for `n_regimens` regimens: a
    dose grid of the four drugs (0 and log-spaced 0.1 nM..10 uM) in the marrow context.

    Raises BenchmarkSetupError (with the reason) when the bundled model cannot be loaded."""
    try:
        from mmmech.model import Simulator

        sim = Simulator("myeloma", drugs=DRUGS, context="marrow")
    except Exception as exc:  # noqa: BLE001 - any failure stops the benchmark, with its reason
        raise BenchmarkSetupError(
            f"bench_kernels: the bundled myeloma model could not be "
            f"loaded ({type(exc).__name__}: {exc}); the logic benchmark "
            f"measures that model and nothing else"
        ) from exc
    per = int(np.ceil(n_regimens**0.25))
    g = np.concatenate([[0.0], np.geomspace(0.1, 1e4, per - 1)])
    conc = np.array(np.meshgrid(*[g] * len(DRUGS), indexing="ij")).reshape(len(DRUGS), -1).T
    conc = conc[:n_regimens]
    mask, value = sim.fixed_arrays(conc)
    return (sim.compiled, mask, value), (
        f"bundled myeloma model ({sim.compiled.n_nodes} nodes, "
        f"{sim.compiled.n_edges} edges), drugs {DRUGS}, "
        f"marrow context, {len(conc)} dose combinations"
    )


def random_case(n_regimens, n_nodes=100, seed=0):
    from mmmech.testing import random_logic_model, random_regimens

    cm = random_logic_model(n_nodes, n_inputs=max(2, n_nodes // 10), max_in=3, seed=seed)
    mask, value = random_regimens(cm, n_regimens, p_fixed=0.0, seed=seed)
    mask[:, : max(2, n_nodes // 10)] = 1  # the inputs act as drug occupancies
    value[:, : max(2, n_nodes // 10)] = np.random.default_rng(seed).random(
        (n_regimens, max(2, n_nodes // 10))
    )
    return cm, mask, value


def _pyfloat(x):
    return repr(float(x))


def export_source(cm, p=0):
    """Python source of ``rhs(t, y, free)`` for parameter set `p` of `cm`: the model as
    straight-line code, one expression per node, parameters as literals (what Netflux's and
    BoolNet's ODE exporters write). Same semantics and order of operations as the kernel:
    edge literal ``w * f(clip(y_src, 0, 1))`` with the normalized Hill function (``x`` itself
    for identity edges), AND ``a * b``, OR ``1 - (1 - a) * (1 - b)``, NOT ``1 - a``, and
    ``dy_i = ((ymax_i * F_i - y_i) * free_i) / tau_i`` (free_i: 1.0 where the node follows its
    rule in this regimen, 0.0 where it is held)."""
    from mmmech.simulation.compiled import OP_AND, OP_CONST, OP_LIT, OP_NOT, hill_coefficients

    ps = cm.params
    w, n, tau, ymax = ps.w[p], ps.n[p], ps.tau[p], ps.ymax[p]
    B, Kn, lin = hill_coefficients(n, ps.ec50[p])
    ptr, ops, args, src = cm.prog_ptr, cm.prog_op, cm.prog_arg, cm.edge_src
    lines = [
        f"# {len(cm.nodes)}-node model exported from the compiled rule programs",
        "def rhs(t, y, free):",
        "    v = y.tolist()",
    ]
    used = sorted({int(src[a]) for a, o in zip(args, ops, strict=False) if o == OP_LIT})
    for j in used:
        lines.append(f"    x{j} = v[{j}]")
        lines.append(f"    x{j} = 0.0 if x{j} < 0.0 else (1.0 if x{j} > 1.0 else x{j})")
    exprs = []
    for i in range(len(cm.nodes)):
        a, b = int(ptr[i]), int(ptr[i + 1])
        if a == b:
            exprs.append("0.0")
            continue
        stack = []
        for k in range(a, b):
            op, arg = int(ops[k]), int(args[k])
            if op == OP_LIT:
                j = int(src[arg])
                hill = (
                    f"x{j}"
                    if lin[arg]
                    else f"({_pyfloat(B[arg])} * x{j} ** {_pyfloat(n[arg])} / "
                    f"({_pyfloat(Kn[arg])} + x{j} ** {_pyfloat(n[arg])}))"
                )
                stack.append(f"({_pyfloat(w[arg])} * {hill})")
            elif op == OP_CONST:
                stack.append(_pyfloat(arg))
            elif op == OP_NOT:
                stack.append(f"(1.0 - {stack.pop()})")
            else:
                rhs_, lhs = stack.pop(), stack.pop()
                stack.append(
                    f"({lhs} * {rhs_})"
                    if op == OP_AND
                    else f"(1.0 - (1.0 - {lhs}) * (1.0 - {rhs_}))"
                )
        exprs.append(
            f"(({_pyfloat(ymax[i])} * {stack.pop()} - v[{i}]) * free[{i}]) / {_pyfloat(tau[i])}"
        )
    lines.append("    return np.array([")
    lines.extend(f"        {e},  # {cm.nodes[i]}" for i, e in enumerate(exprs))
    lines.append("    ])")
    return "\n".join(lines) + "\n"


def export_rhs(cm, p=0):
    """Compile :func:`export_source` once; returns ``rhs(t, y, free)``."""
    ns = {"np": np}
    exec(compile(export_source(cm, p), f"<exported {len(cm.nodes)}-node model>", "exec"), ns)
    return ns["rhs"]


def lsoda_exported(cm, mask, value, rows, tol=1e-6, rtol=1e-6, atol=1e-9):
    """Per-regimen solve_ivp(LSODA) of the exported straight-line model to the kernel's
    steady-state test (max_i max(|dy_i|, tau_i |dy_i|) < tol); returns (seconds, states,
    failures, rhs calls per regimen). The export is compiled once, outside the timing."""
    from scipy.integrate import solve_ivp

    rhs = export_rhs(cm)
    tau = cm.params.tau[0]
    has_rule = np.diff(cm.prog_ptr) > 0
    out, failures, calls = [], 0, 0
    t0 = time.perf_counter()
    for r in rows:
        fixed = mask[r] > 0
        free = (has_rule & ~fixed).astype(float).tolist()
        start = np.where(fixed, value[r], cm.y0)

        def settled(t, y, free):
            a = np.abs(rhs(t, y, free))
            return np.max(np.maximum(a, a * tau)) - tol

        settled.terminal = True
        settled.direction = -1
        sol = solve_ivp(
            rhs,
            (0.0, 1e4),
            start,
            method="LSODA",
            rtol=rtol,
            atol=atol,
            events=settled,
            args=(free,),
        )
        failures += sol.status != 1
        calls += sol.nfev
        out.append(sol.y[:, -1])
    return (time.perf_counter() - t0, np.array(out), int(failures), calls / max(1, len(rows)))


def lsoda_per_regimen(cm, mask, value, rows, tol=1e-6, rtol=1e-6, atol=1e-9):
    """Per-regimen solve_ivp(LSODA) to max|dy/dt| < tol with the NumPy reference's rule
    interpreter as right-hand side; returns (seconds, states, failures)."""
    from scipy.integrate import solve_ivp

    from mmmech._kernels import _logic_ref
    from mmmech.simulation import propagate

    out, failures = [], 0
    t0 = time.perf_counter()
    for r in rows:
        reg = propagate._prepare(
            cm, mask[r : r + 1], value[r : r + 1], None, None, None, None, "bench"
        )
        batch = _logic_ref._Batch(cm, reg.params, reg.param_index, reg.fixed_mask, reg.fixed_value)

        def rhs(t, y, batch=batch):
            return _logic_ref.derivative(batch, y[None, :])[0]

        def settled(t, y):
            return np.max(np.abs(rhs(t, y))) - tol

        settled.terminal = True
        settled.direction = -1
        start = np.where(reg.fixed_mask[0] > 0, reg.fixed_value[0], reg.y0[0])
        sol = solve_ivp(
            rhs, (0.0, 1e4), start, method="LSODA", rtol=rtol, atol=atol, events=settled
        )
        failures += sol.status != 1
        out.append(sol.y[:, -1])
    return time.perf_counter() - t0, np.array(out), int(failures)


def thread_scaling(func, repeat):
    """Time func(1) and func(2) in alternation, `repeat` rounds; returns a dict with the
    median times, the speed-up and every run's seconds with the 1-minute load average read
    just before it (the machine may be shared: the speed-up is read against the load)."""
    runs = {1: [], 2: []}
    out = {}
    for _ in range(max(1, repeat)):
        for nt in (1, 2):
            before = load()
            t0 = time.perf_counter()
            out[nt] = func(nt)
            runs[nt].append({"seconds": time.perf_counter() - t0, "load": before})
    t1 = float(np.median([x["seconds"] for x in runs[1]]))
    t2 = float(np.median([x["seconds"] for x in runs[2]]))
    loads = [x["load"] for v in runs.values() for x in v if x["load"] is not None]
    return {
        "t1": t1,
        "t2": t2,
        "speedup": t1 / t2,
        "target": 1.7,
        "load_min": min(loads) if loads else None,
        "load_max": max(loads) if loads else None,
        "cpus": os.cpu_count(),
        "runs_1thread": runs[1],
        "runs_2threads": runs[2],
    }, out


def bench_logic(n_regimens, n_lsoda, numpy_regimens, repeat, n_exported=None):
    from mmmech.simulation import propagate

    res = {"load_before": load()}
    (cm, mask, value), desc = myeloma_case(n_regimens)
    R = mask.shape[0]
    res.update(model=desc, regimens=R, nodes=cm.n_nodes, edges=cm.n_edges)
    scaling, outs = thread_scaling(
        lambda nt: propagate.steady_state(cm, mask, value, backend="cython", num_threads=nt), repeat
    )
    ss, ss2 = outs[1], outs[2]
    t1, t2 = scaling["t1"], scaling["t2"]
    assert np.array_equal(ss.y, ss2.y)
    res.update(
        cython_1thread_s=t1,
        cython_2threads_s=t2,
        converged=float(ss.converged.mean()),
        mean_steps=float(ss.steps.mean()),
        thread_scaling=scaling,
    )
    # NumPy backend, batched (all regimens, or the first `numpy_regimens` scaled)
    Rn = min(R, numpy_regimens)
    tn, sn = timed(lambda: propagate.steady_state(cm, mask[:Rn], value[:Rn], backend="python"), 1)
    res.update(
        numpy_regimens_timed=Rn,
        numpy_s=tn * R / Rn,
        numpy_max_abs_diff=float(np.max(np.abs(sn.y - ss.y[:Rn]))),
    )
    # per-regimen LSODA of the exported straight-line model (the fair anchor)
    n_exported = n_exported or 4 * n_lsoda
    rows_e = np.unique(np.linspace(0, R - 1, n_exported).astype(int))
    te, ye, fails_e, nfev = lsoda_exported(cm, mask, value, rows_e)
    res.update(
        exported_regimens_timed=int(rows_e.size),
        exported_s=te * R / rows_e.size,
        exported_failures=fails_e,
        exported_rhs_calls_per_regimen=nfev,
        exported_max_abs_diff=float(np.max(np.abs(ye - ss.y[rows_e]))),
    )
    # per-regimen LSODA with the rule interpreter, on an evenly spread subset
    rows = np.unique(np.linspace(0, R - 1, n_lsoda).astype(int))
    tl, yl, fails = lsoda_per_regimen(cm, mask, value, rows)
    res.update(
        lsoda_regimens_timed=int(rows.size),
        lsoda_s=tl * R / rows.size,
        lsoda_failures=fails,
        lsoda_max_abs_diff=float(np.max(np.abs(yl - ss.y[rows]))),
    )
    # ns per edge evaluation: fixed-step RK4, 4 derivative evaluations per step (the cost of a
    # step does not depend on dt; dt stays inside RK4's stability limit, 2.785 x the smallest tau,
    # which integrate_fixed enforces: the bundled model's proteasome-activity nodes have 1 min)
    n_steps = 50
    tr, _ = timed(
        lambda: propagate.integrate_fixed(
            cm, _stable_dt(cm), n_steps, mask, value, backend="cython", num_threads=1
        ),
        repeat,
    )
    res["ns_per_edge_eval_1thread"] = tr / (R * n_steps * 4 * cm.n_edges) * 1e9
    res["load_after"] = load()
    res["ratios"] = {
        "per_regimen_vs_exported_lsoda_1thread": res["exported_s"] / t1,
        "per_regimen_vs_exported_lsoda_2threads": res["exported_s"] / t2,
        "per_regimen_vs_lsoda_1thread": res["lsoda_s"] / t1,
        "per_regimen_vs_lsoda_2threads": res["lsoda_s"] / t2,
        "vs_numpy_backend_1thread": res["numpy_s"] / t1,
        "vs_numpy_backend_2threads": res["numpy_s"] / t2,
        "threads_2_over_1": t1 / t2,
    }
    return res


def _stable_dt(cm, dt=0.05):
    """`dt`, or half of RK4's stability limit for the model's smallest time constant if lower."""
    return min(dt, 0.5 * 2.785 * float(cm.params.tau.min()))


def bench_sizes(sizes, repeat):
    from mmmech.simulation import propagate

    rows = []
    for n_nodes, n_reg in sizes:
        cm, mask, value = random_case(n_reg, n_nodes=n_nodes, seed=n_nodes)
        n_steps = 20
        tr, _ = timed(
            lambda cm=cm, mask=mask, value=value, n_steps=n_steps: propagate.integrate_fixed(
                cm, _stable_dt(cm), n_steps, mask, value, backend="cython", num_threads=1
            ),
            repeat,
        )
        ts, ss = timed(
            lambda cm=cm, mask=mask, value=value: propagate.steady_state(
                cm, mask, value, backend="cython", max_steps=2000
            ),
            1,
        )
        rows.append(
            {
                "nodes": n_nodes,
                "edges": cm.n_edges,
                "regimens": n_reg,
                "rk4_1thread_s": tr,
                "ns_per_edge_eval_1thread": tr / (n_reg * n_steps * 4 * cm.n_edges) * 1e9,
                "steady_s": ts,
                "steady_ms_per_regimen": ts / n_reg * 1e3,
                "converged": float(ss.converged.mean()),
                "load": load(),
            }
        )
    return rows


# ---------------------------------------------------------------------------- linear


def seeds_for(nodes_count, R, seed=0, k_max=5):
    rng = np.random.default_rng(seed)
    S = np.zeros((R, nodes_count))
    for r in range(R):
        k = int(rng.integers(1, k_max + 1))
        idx = rng.choice(nodes_count, size=k, replace=False)
        S[r, idx] = rng.uniform(0.2, 1.0, k) * rng.choice([-1.0, 1.0], k)
    return S


def bench_linear(A, nodes, label, R, n_nx, repeat, restart=0.5):
    import networkx as nx

    from mmmech.simulation.diffusion import diffuse, diffusion_operator

    res = {
        "graph": label,
        "nodes": A.shape[0],
        "edges": int(A.nnz),
        "regimens": R,
        "restart": restart,
        "load_before": load(),
    }
    t_op, op = timed(lambda: diffusion_operator(A, nodes=nodes), 1)
    S = seeds_for(A.shape[0], R)
    _, info = diffuse(op, S, restart=restart, tol=1e-10, return_info=True)
    K = int(info.iterations.max())
    res.update(operator_build_s=t_op, iterations=K)
    kw = dict(restart=restart, tol=0, n_iter=K)
    scaling, outs = thread_scaling(
        lambda nt: diffuse(op, S, backend="cython", num_threads=nt, **kw), repeat
    )
    t1, t2, x1 = scaling["t1"], scaling["t2"], outs[1]
    res["thread_scaling"] = scaling
    tp, xp = timed(lambda: diffuse(op, S, backend="python", **kw), repeat)
    res.update(
        cython_1thread_s=t1,
        cython_2threads_s=t2,
        scipy_sparse_s=tp,
        max_abs_diff=float(np.max(np.abs(x1 - xp))),
    )
    # networkx personalized PageRank per regimen, on |W| (networkx has no signed walk)
    G = nx.DiGraph()
    G.add_nodes_from(range(A.shape[0]))
    coo = abs(A).tocoo()
    G.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    rows = np.arange(min(n_nx, R))
    t0 = time.perf_counter()
    for r in rows:
        s = np.abs(S[r])
        nx.pagerank(
            G,
            alpha=1 - restart,
            personalization=dict(enumerate(s / s.sum())),
            tol=1e-10,
            max_iter=10000,
        )
    tnx = (time.perf_counter() - t0) * R / rows.size
    res.update(networkx_regimens_timed=int(rows.size), networkx_s=tnx, load_after=load())
    res["ratios"] = {
        "vs_scipy_sparse_1thread": tp / t1,
        "vs_scipy_sparse_2threads": tp / t2,
        "vs_networkx_1thread": tnx / t1,
        "vs_networkx_2threads": tnx / t2,
        "threads_2_over_1": t1 / t2,
    }
    return res


def omnipath():
    path = SHARED / "networks" / "omnipath_signed_directed.tsv"
    if not path.is_file():
        return None
    from mmmech.simulation.diffusion import adjacency_from_edges

    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return adjacency_from_edges(
        [r["source"] for r in rows],
        [r["target"] for r in rows],
        [float(r["interaction"]) for r in rows],
    )


# ---------------------------------------------------------------------------- report


def fmt_ratio(x):
    return f"{x:8.1f}x"


def report(out):
    lines = []
    if "logic" in out:
        lines.extend(_report_logic(out["logic"]))
    if "sizes" in out:
        lines.extend(_report_sizes(out["sizes"]))
    lines.extend(_report_linear(out["linear"]))
    for note in out.get("skipped", []):
        lines.append(f"[skipped] {note}")
    return "\n".join(lines)


def _report_logic(lo):
    lines = []
    lines.append(f"[logic ODE] {lo['model']}")
    lines.append(
        f"  load {lo['load_before']} -> {lo['load_after']}; converged "
        f"{lo['converged']:.1%}, mean accepted steps {lo['mean_steps']:.1f}"
    )
    lines.append(f"  {'method':<44}{'seconds':>10}{'ratio':>10}")
    for name, key, rkey in [
        ("Cython, 1 thread", "cython_1thread_s", None),
        ("Cython, 2 threads", "cython_2threads_s", "threads_2_over_1"),
        (
            f"NumPy backend (batched, {lo['numpy_regimens_timed']} timed)",
            "numpy_s",
            "vs_numpy_backend_2threads",
        ),
        (
            f"LSODA, exported model ({lo['exported_regimens_timed']} timed)",
            "exported_s",
            "per_regimen_vs_exported_lsoda_2threads",
        ),
        (
            f"LSODA, rule interpreter ({lo['lsoda_regimens_timed']} timed)",
            "lsoda_s",
            "per_regimen_vs_lsoda_2threads",
        ),
    ]:
        ratio = fmt_ratio(lo["ratios"][rkey]) if rkey else ""
        lines.append(f"  {name:<44}{lo[key]:>10.3f}{ratio:>10}")
    r = lo["ratios"]
    lines.append(
        f"  1 thread: vs NumPy {r['vs_numpy_backend_1thread']:.1f}x, vs LSODA of the "
        f"exported model {r['per_regimen_vs_exported_lsoda_1thread']:.1f}x (the fair "
        f"anchor; {lo['exported_rhs_calls_per_regimen']:.0f} rhs calls per regimen), "
        f"vs LSODA with the interpreter {r['per_regimen_vs_lsoda_1thread']:.1f}x"
    )
    lines.append(
        f"  {lo['ns_per_edge_eval_1thread']:.2f} ns per edge evaluation (1 thread); "
        f"max |diff| NumPy {lo['numpy_max_abs_diff']:.1e}, LSODA exported "
        f"{lo['exported_max_abs_diff']:.1e}, interpreter {lo['lsoda_max_abs_diff']:.1e}"
    )
    sc = lo["thread_scaling"]
    verdict = "meets" if sc["speedup"] >= sc["target"] else "below"
    lines.append(
        f"  threads: 1 -> 2 speed-up {sc['speedup']:.2f}x ({verdict} the "
        f"{sc['target']}x target for an idle machine) at load {sc['load_min']}-"
        f"{sc['load_max']} on {sc['cpus']} CPUs"
    )
    lines.append("")
    return lines


def _report_sizes(sizes):
    lines = [
        "[random networks, Cython] nodes edges regimens  rk4 ns/edge-eval  "
        "steady ms/regimen  converged"
    ]
    for s in sizes:
        lines.append(
            f"  {s['nodes']:>7} {s['edges']:>6} {s['regimens']:>9} "
            f"{s['ns_per_edge_eval_1thread']:>17.2f} {s['steady_ms_per_regimen']:>18.3f}"
            f" {s['converged']:>10.1%}"
        )
    lines.append("")
    return lines


def _report_linear(linear):
    lines = []
    for li in linear:
        lines.append(
            f"[linear] {li['graph']}: {li['nodes']} nodes, {li['edges']} edges, "
            f"{li['regimens']} regimens, {li['iterations']} iterations; load "
            f"{li['load_before']} -> {li['load_after']}"
        )
        r = li["ratios"]
        sc = li["thread_scaling"]
        lines.append(
            f"  Cython 1 thread {li['cython_1thread_s']:.3f} s, 2 threads "
            f"{li['cython_2threads_s']:.3f} s ({r['threads_2_over_1']:.2f}x at load "
            f"{sc['load_min']}-{sc['load_max']}; target {sc['target']}x idle)"
        )
        lines.append(
            f"  scipy.sparse {li['scipy_sparse_s']:.3f} s: "
            f"{r['vs_scipy_sparse_1thread']:.1f}x (1 thread), "
            f"{r['vs_scipy_sparse_2threads']:.1f}x (2 threads)"
        )
        lines.append(
            f"  networkx pagerank per regimen {li['networkx_s']:.2f} s "
            f"({li['networkx_regimens_timed']} timed): "
            f"{r['vs_networkx_1thread']:.0f}x (1 thread), "
            f"{r['vs_networkx_2threads']:.0f}x (2 threads)"
        )
        lines.append("")
    return lines


def write_json(out, path):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".partial")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(out, fh, indent=2)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller problems (a few minutes)")
    ap.add_argument("--smoke", action="store_true", help="tiny problems (seconds; for tests)")
    ap.add_argument("--json-out", default=str(OUT), help="where to write the JSON results")
    ap.add_argument(
        "--sections",
        default="logic,sizes,linear",
        help="comma-separated subset of logic,sizes,linear",
    )
    args = ap.parse_args(argv)
    sections = {x.strip() for x in args.sections.split(",") if x.strip()}
    unknown = sections - {"logic", "sizes", "linear"}
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)}")
    from mmmech import _kernels

    if args.smoke:
        cfg = dict(
            R=64,
            lsoda=2,
            numpy=64,
            sizes=[(100, 32)],
            lin=(500, 3000, 16),
            nx=2,
            repeat=1,
            omni=False,
            exported=4,
        )
    elif args.quick:
        cfg = dict(
            R=2048,
            lsoda=10,
            numpy=512,
            sizes=[(100, 256), (1000, 256), (10000, 32)],
            lin=(10000, 100000, 256),
            nx=4,
            repeat=2,
            omni=True,
            exported=100,
        )
    else:
        cfg = dict(
            R=10000,
            lsoda=40,
            numpy=10000,
            sizes=[(100, 256), (100, 4096), (1000, 256), (1000, 4096), (10000, 64), (10000, 512)],
            lin=(10000, 100000, 256),
            nx=8,
            repeat=3,
            omni=True,
            exported=400,
        )
    out = {
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "openmp": _kernels.openmp_enabled(),
        "default_threads": _kernels.load("_logic").default_threads(),
        "lanes": int(_kernels.load("_logic").LANES),
        "skipped": [],
    }
    if "logic" in sections:
        out["logic"] = bench_logic(
            cfg["R"], cfg["lsoda"], cfg["numpy"], cfg["repeat"], cfg["exported"]
        )
    if "sizes" in sections:
        out["sizes"] = bench_sizes(cfg["sizes"], cfg["repeat"])
    out["linear"] = []
    if "linear" in sections:
        from mmmech.testing import random_signed_graph

        n, m, R = cfg["lin"]
        A = random_signed_graph(n, m, frac_negative=0.3, seed=1)
        out["linear"].append(
            bench_linear(A, None, "random signed graph", R, cfg["nx"], cfg["repeat"])
        )
    if "linear" in sections and cfg["omni"]:
        got = omnipath()
        if got is None:
            out["skipped"].append(f"OmniPath network not found under {SHARED / 'networks'}")
        else:
            B, names = got
            out["linear"].append(
                bench_linear(
                    B, names, "OmniPath signed directed network", R, cfg["nx"], cfg["repeat"]
                )
            )
    print(report(out))
    write_json(out, args.json_out)
    print(f"\nwrote {args.json_out}")
    return out


if __name__ == "__main__":
    try:
        main()
    except BenchmarkSetupError as exc:
        sys.exit(str(exc))
