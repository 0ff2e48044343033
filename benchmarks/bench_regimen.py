"""Benchmark of regimens in time (issue 16, Speed): virtual patients x cycles of VRd.

Side by side in one process:

(a) **mmmech, batched**: :func:`mmmech.dynamics.cohort.simulate_cohort` for N virtual patients
    (N = 100, 1,000, 10,000) x 12 cycles of VRd (bortezomib, lenalidomide, dexamethasone; the
    myeloma network in the marrow context plus the tumour / M-protein model and IMWG), with 1
    and 2 kernel threads. Patients differ in body size (weight 50-110 kg, height 150-195 cm,
    BSA by Mosteller's formula), so their doses per m2 and their PK covariates differ. Where a
    size would take longer than ``--budget`` seconds by the estimate from the smaller sizes,
    it is run for fewer cycles and scaled to 12 (the cost is linear in the number of time
    steps; marked ``extrapolated`` in the output). Also the general path
    :func:`mmmech.dynamics.simulate_regimens` (one DataFrame and first-cycle PK metrics per
    patient) for the smallest N, for comparison.
(b) **the anchor**: the same time course for a few patients with
    ``scipy.integrate.solve_ivp(method="BDF", jac_sparsity=...)`` (``--anchor-method``; the
    model is stiff since round 9's 1-minute proteasome nodes, so a capable user takes an
    implicit method and hands it the Jacobian's sparsity pattern) on the model exported as
    straight-line NumPy code (``bench_kernels.export_source``: one expression per node,
    parameters as literals) with two more lines for tumour burden and M-protein, fed the same
    piecewise-constant occupancy
    inputs (binding kinetics included; restarted at each 4-h step, where the inputs jump), at
    two tolerances: rtol 1e-6 / atol 1e-9 (the former kernel's) and rtol 3e-4 / atol 3e-7 (the
    course kernel's, ``mmmech.dynamics._course.COURSE_RTOL``: matched tolerance). The inputs are
    precomputed outside its timing (which favours the anchor). The anchor's M-protein is
    compared with mmmech's.
(c) **the previous kernel**: the network alone for the first patients, one Dormand-Prince call
    (``propagate.time_course``, rtol 1e-6) per 4-h step as mmmech did before the course kernel,
    against one call of the course kernel (RODAS4) on the same inputs.

Reports seconds, seconds per patient, the per-patient ratio, threads and the 1-minute load
average read before each run; writes JSON to ``benchmarks/results/regimen.json``. Nothing here
is a test: no timing is asserted.

Run: ``python benchmarks/bench_regimen.py [--quick | --smoke | --target] [--json-out FILE]``
(``--target``: issue 16's 10,000 patients x 12 cycles on 2 threads alone, every cycle run).
"""

import argparse
import importlib.util
import os
import pathlib
import platform
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "results" / "regimen.json"
REGIMEN = "vrd"
RTOL, ATOL = 1e-6, 1e-9  # the former kernel's tolerances
#: the anchor's solver: since round 9 the model has 1-minute nodes (stiff), so a capable user
#: takes an implicit method with the Jacobian's sparsity pattern; BDF was the fastest of BDF,
#: Radau and LSODA on one VRd cycle (1.96 / 2.77 / 4.27 s at rtol 1e-6, same M-protein to 6e-8)
ANCHOR_METHOD = "BDF"


def _bench_kernels():
    """bench_kernels.py beside this file (its exporter, load reading and JSON writer)."""
    spec = importlib.util.spec_from_file_location("bench_kernels", HERE / "bench_kernels.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


BK = _bench_kernels()


def regimen(cycles):
    """The bundled VRd with its induction phase set to `cycles` 21-day cycles (the file has
    eight, as in SWOG S0777; the benchmark asks for twelve)."""
    import dataclasses

    from mmmech import regimens

    reg = regimens.load(REGIMEN)
    first = dataclasses.replace(reg.phases[0], cycles=max(cycles, reg.phases[0].cycles or 0))
    return dataclasses.replace(reg, phases=(first, *reg.phases[1:]))


load = BK.load


def bodies(n, seed=0):
    """`n` virtual patients: weight 50-110 kg, height 150-195 cm, BSA (Mosteller) in m2."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(50.0, 110.0, n)
    h = rng.uniform(150.0, 195.0, n)
    bsa = np.sqrt(w * h / 3600.0)
    return [
        {"weight_kg": float(a), "bsa_m2": float(round(b, 4))} for a, b in zip(w, bsa, strict=True)
    ]


# ----------------------------------------------------------------------------- (a) mmmech


def counts(labels):
    keys, n = np.unique(np.asarray(labels), return_counts=True)
    return {str(k): int(c) for k, c in zip(keys, n, strict=True)}


def run_cohort(n, cycles, threads, seed=0):
    from mmmech.dynamics.cohort import simulate_cohort

    b = bodies(n, seed)
    ld = load()
    t0 = time.perf_counter()
    res = simulate_cohort(regimen(cycles), b, cycles=cycles, num_threads=threads)
    sec = time.perf_counter() - t0
    return res, {
        "patients": n,
        "cycles_run": cycles,
        "threads": threads,
        "load_before": ld,
        "load_after": load(),
        "seconds": sec,
        "stage_seconds": {k: round(v, 4) for k, v in res.seconds.items()},
        "steps": int(res.hours.size - 1),
        "days": float(res.hours[-1] / 24.0),
        "all_ok": bool(res.ok.all()),
        "best_response_counts": counts(res.best_response),
    }


def run_general(n, cycles, seed=0):
    """The general path (DataFrames, first-cycle PK metrics per patient) for comparison."""
    from mmmech import dynamics

    items = [{"regimen": regimen(cycles), "body": b} for b in bodies(n, seed)]
    ld = load()
    t0 = time.perf_counter()
    res = dynamics.simulate_regimens(items, cycles=cycles)
    sec = time.perf_counter() - t0
    m = np.array([r.timecourse["m_protein_g_per_dL"].to_numpy() for r in res])
    return m, {"patients": n, "cycles": cycles, "load_before": ld, "seconds": sec}


# ----------------------------------------------------------------------------- (b) anchor


_CACHE = {}


def anchor_inputs(body, cycles, step_hours=4.0, substeps=4):
    """The piecewise-constant inputs mmmech integrates for one patient: compiled model, fixed
    mask (N,), held values per step (K, N), untreated start (N,), tumour constants."""
    from mmmech.dynamics import regimen as rg
    from mmmech.dynamics.tumour import TumourModel
    from mmmech.simulation import propagate
    from mmmech.simulation.simulator import Simulator

    it = rg._item(regimen(cycles), "bench")
    b = rg._body(body, "bench")
    span, _ = rg._horizon_days(it.regimen, cycles)
    K = int(np.ceil(span * 24.0 / step_hours))
    sub = (np.arange(K)[:, None] + (np.arange(substeps)[None, :] + 0.5) / substeps) * step_hours
    drugs = list(it.regimen.drugs)
    ev = rg._doses(it, cycles, b)
    conc = np.stack(
        [rg._conc_matrix(d, ev, sub.ravel(), "reference", dict(b.known), []) for d in drugs],
        axis=1,
    )
    if "sim" not in _CACHE:
        _CACHE["sim"] = Simulator("myeloma", drugs, context="marrow")
    sim = _CACHE["sim"]
    cm = sim.compiled
    mask, value = sim.fixed_arrays(conc)
    value = value.reshape(K, substeps, cm.n_nodes).mean(axis=1)
    # binding kinetics, as mmmech applies them (exact per 15-min interval, averaged per step)
    from mmmech.dynamics.kinetics import kinetic_columns, occupancy_course

    nf = int(np.ceil(step_hours / rg.KINETIC_DT_H))
    fine_edges = np.arange(K * nf + 1) * (step_hours / nf)
    for kc in kinetic_columns(sim.columns):
        if not sim._col_free[kc.column]:
            continue
        fine = rg._conc_intervals(kc.drug, ev, fine_edges, "reference", dict(b.known))
        _, mean = occupancy_course(
            fine[None, :], step_hours / nf, kc.K, kc.kinetics.half_life_h, kc.hill
        )
        value[:, cm.index(kc.node)] = mean[0].reshape(K, nf).mean(axis=1)
    zm, zv = sim.fixed_arrays(np.zeros((1, len(drugs))))
    if "ss" not in _CACHE:
        _CACHE["ss"] = propagate.steady_state(cm, zm, zv, max_steps=100000)
    ss = _CACHE["ss"]
    ro = cm.readouts
    p, a, ik = ro["proliferation"], ro["apoptosis"], ro["immune_killing"]
    tm = TumourModel()
    g, d = tm.rates(float(ss.y[0, p]), float(ss.y[0, a] + ss.y[0, ik]))
    return {
        "cm": cm,
        "mask": mask[0] > 0,
        "values": value,
        "y0": np.asarray(ss.y[0]),
        "steps": K,
        "dt": step_hours,  # model time units (1 h each)
        "tumour": (p, a, ik, g, d, tm.clearance_rate, tm.m0_g_per_dL),
    }


def export_with_tumour(cm, tumour):
    """Straight-line source of the network (``bench_kernels.export_source``) plus tumour burden
    and M-protein as two more state variables (rates per day, time in hours)."""
    p, a, ik, g, d, kel, m0 = tumour
    N = cm.n_nodes
    src = BK.export_source(cm)
    head, tail = src.rsplit("    ])\n", 1)
    r = BK._pyfloat
    extra = (
        f"        ({r(g)} * v[{p}] - {r(d)} * (v[{a}] + v[{ik}])) * v[{N}] / 24.0,  # burden\n"
        f"        ({r(kel * m0)} * v[{N}] - {r(kel)} * v[{N + 1}]) / 24.0,  # M-protein\n"
    )
    return head + extra + "    ])\n" + tail


def compile_rhs(src):
    ns = {"np": np}
    exec(compile(src, "<exported model + tumour>", "exec"), ns)
    return ns["rhs"]


def jac_sparsity(cm, tumour):
    """The Jacobian's sparsity pattern of the exported model + tumour ((N + 2) x (N + 2)): a node
    depends on itself and on its edges' sources, burden on the readouts and itself, M-protein on
    burden and itself (what a user hands to a stiff solver)."""
    from scipy.sparse import lil_matrix

    from mmmech._kernels._bytecode import OP_LIT

    N = cm.n_nodes
    S = lil_matrix((N + 2, N + 2), dtype=np.int8)
    ops, args, ptr = cm.prog_op, cm.prog_arg, cm.prog_ptr
    for i in range(N):
        S[i, i] = 1
        for k in range(ptr[i], ptr[i + 1]):
            if ops[k] == OP_LIT:
                S[i, int(cm.edge_src[args[k]])] = 1
    p, a, ik = tumour[:3]
    for j in (p, a, ik, N):
        S[N, j] = 1
    S[N + 1, N] = S[N + 1, N + 1] = 1
    return S.tocsr()


def anchor_run(inp, method=ANCHOR_METHOD, rtol=RTOL, atol=ATOL):
    """One patient with solve_ivp restarted at each step; returns (seconds, M-protein (K+1,) of
    the continuous tumour ODE, M-protein (K+1,) from the anchor's readouts at the step ends
    through mmmech's step-exact tumour integrator, rhs calls). BDF and Radau get the Jacobian's
    sparsity pattern (:func:`jac_sparsity`), so their finite-difference Jacobian costs a few
    right-hand-side calls instead of N + 2."""
    from scipy.integrate import solve_ivp

    cm = inp["cm"]
    N = cm.n_nodes
    rhs = compile_rhs(export_with_tumour(cm, inp["tumour"]))
    extra = {"jac_sparsity": jac_sparsity(cm, inp["tumour"])} if method in ("BDF", "Radau") else {}
    has_rule = np.diff(cm.prog_ptr) > 0
    held = inp["mask"]
    free = (has_rule & ~held).astype(float).tolist()
    z = np.concatenate([inp["y0"], [1.0, inp["tumour"][6]]])
    M = [z[N + 1]]
    p, a, ik = inp["tumour"][:3]
    reads = [(z[p], z[a] + z[ik])]
    calls = 0
    t0 = time.perf_counter()
    for k in range(inp["steps"]):
        z[:N][held] = inp["values"][k][held]
        sol = solve_ivp(
            rhs, (0.0, inp["dt"]), z, method=method, rtol=rtol, atol=atol, args=(free,), **extra
        )
        if sol.status != 0:
            raise RuntimeError(f"bench_regimen: solve_ivp failed on step {k}: {sol.message}")
        calls += sol.nfev
        z = sol.y[:, -1].copy()
        M.append(z[N + 1])
        reads.append((z[p], z[a] + z[ik]))
    sec = time.perf_counter() - t0
    from mmmech.dynamics.tumour import integrate

    g, d, kel, m0 = inp["tumour"][3:]
    P, A = np.array(reads).T
    rate = g * 0.5 * (P[1:] + P[:-1]) - d * 0.5 * (A[1:] + A[:-1])
    _, M_steps = integrate(rate[None, :], inp["dt"] / 24.0, kel, m0)
    return sec, np.array(M), M_steps[0], calls


# ----------------------------------------------------------------------------- (c) kernels


def kernels_ab(n, cycles, threads):
    """The network alone for `n` patients: the previous path (one Dormand-Prince call per 4-h
    step, rtol 1e-6) against one call of the course kernel, on the same inputs."""
    from mmmech.dynamics._course import COURSE_ATOL, COURSE_RTOL, network_course
    from mmmech.simulation import propagate

    inps = [anchor_inputs(b, cycles) for b in bodies(n, 0)]
    cm = inps[0]["cm"]
    mask = np.stack([i["mask"] for i in inps]).astype(float)
    values = np.stack([i["values"] for i in inps])
    y0 = np.stack([i["y0"] for i in inps])
    p, a, ik = inps[0]["tumour"][:3]
    outn = np.array([p, a, ik])
    cols = np.nonzero(np.any(values != values[:, :1], axis=(0, 1)))[0]
    K, dt = inps[0]["steps"], inps[0]["dt"]
    ld_old = load()
    t0 = time.perf_counter()
    y = y0.copy()
    old = [y[:, outn]]
    for k in range(K):
        out, _ = propagate.time_course(
            cm, [dt], mask, values[:, k], y0=y, rtol=RTOL, atol=ATOL, num_threads=threads
        )
        y = np.ascontiguousarray(out[:, -1])
        old.append(y[:, outn])
    t_old = time.perf_counter() - t0
    old = np.stack(old, axis=1)
    ld_new = load()
    t0 = time.perf_counter()
    new, _, ok, steps = network_course(
        cm, mask, values[:, 0], y0, cols, values[:, :, cols], dt, outn, num_threads=threads
    )
    t_new = time.perf_counter() - t0
    return {
        "patients": n,
        "threads": threads,
        "steps_of_4h": K,
        "previous_dormand_prince_per_step_seconds": t_old,
        "previous_load_before": ld_old,
        "course_kernel_seconds": t_new,
        "course_kernel_load_before": ld_new,
        "course_kernel_tolerances": {"rtol": COURSE_RTOL, "atol": COURSE_ATOL},
        "course_kernel_attempts_per_step": float(steps.mean() / K),
        "speedup": t_old / t_new,
        "max_abs_diff_readouts": float(np.abs(new - old).max()),
        "all_ok": bool(ok.all()),
    }


# ----------------------------------------------------------------------------- driver


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 100, 1,000 (a few minutes)")
    ap.add_argument("--smoke", action="store_true", help="tiny problems (seconds; for tests)")
    ap.add_argument("--json-out", default=str(OUT), help="where to write the JSON results")
    ap.add_argument(
        "--budget",
        type=float,
        default=150.0,
        help="seconds per mmmech run; a size estimated to need more runs fewer cycles, scaled",
    )
    ap.add_argument(
        "--anchor-method",
        choices=["BDF", "Radau", "LSODA"],
        default=ANCHOR_METHOD,
        help="the anchor's solve_ivp method (BDF and Radau with the Jacobian's sparsity)",
    )
    ap.add_argument(
        "--target",
        action="store_true",
        help="issue 16's target alone: 10,000 patients x 12 cycles on 2 threads, every cycle run "
        "(wall, CPU, stage seconds, load); no anchor, no JSON",
    )
    args = ap.parse_args(argv)
    if args.target:
        cpu = time.process_time()
        _, row = run_cohort(10000, 12, 2)
        row["cpu_seconds"] = round(time.process_time() - cpu, 2)
        print(
            f"[target] 10,000 VRd patients x 12 cycles, 2 threads: {row['seconds']:.1f} s wall "
            f"(target 60 s), {row['cpu_seconds']:.1f} s CPU, load {row['load_before']} -> "
            f"{row['load_after']}; stages {row['stage_seconds']}; all ok {row['all_ok']}; "
            f"best responses {row['best_response_counts']}"
        )
        return row
    anchor_method = args.anchor_method
    from mmmech import _kernels

    if args.smoke:
        cfg = dict(sizes=[4], cycles=1, threads=[1, 2], anchor=1, general=2, ab=4)
    elif args.quick:
        cfg = dict(sizes=[100, 1000], cycles=12, threads=[1, 2], anchor=1, general=20, ab=32)
    else:
        cfg = dict(
            sizes=[100, 1000, 10000], cycles=12, threads=[1, 2], anchor=3, general=100, ab=64
        )
    C = cfg["cycles"]
    out = {
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "openmp": _kernels.openmp_enabled(),
        "regimen": f"{REGIMEN}, induction phase set to {C} cycles of 21 days",
        "cycles": C,
        "tolerances": {"rtol": RTOL, "atol": ATOL},
        "mmmech": [],
    }
    print(f"[regimen in time] {REGIMEN} x {C} cycles, marrow context, 4 h steps")
    per_step = None  # seconds per patient-step, from the last run, for the budget estimate
    for n in cfg["sizes"]:
        for th in cfg["threads"]:
            cyc = C
            if per_step is not None:
                est = per_step * n * 126 * C
                if est > args.budget:
                    cyc = max(1, int(C * args.budget / est))
            res, row = run_cohort(n, cyc, th)
            per_step = row["seconds"] / (n * row["steps"])
            scale = C / cyc
            row["extrapolated"] = cyc != C
            row["seconds_for_all_cycles"] = row["seconds"] * scale
            row["seconds_per_patient"] = row["seconds_for_all_cycles"] / n
            out["mmmech"].append(row)
            print(
                f"  mmmech cohort N={n:>6,} threads={th} cycles run={cyc:>2}: "
                f"{row['seconds']:8.2f} s"
                + (f" (x{scale:g} -> {row['seconds_for_all_cycles']:.1f} s)" if cyc != C else "")
                + f"  {row['seconds_per_patient'] * 1e3:8.2f} ms/patient  load "
                f"{row['load_before']}  stages {row['stage_seconds']}"
            )
    # the general path, and agreement of the two
    ng = cfg["general"]
    mg, grow = run_general(ng, C)
    res_small, _ = run_cohort(ng, C, 0)
    grow["seconds_per_patient"] = grow["seconds"] / ng
    grow["max_abs_diff_m_protein_vs_cohort"] = float(np.abs(mg - res_small.m_protein).max())
    out["general_path"] = grow
    print(
        f"  simulate_regimens (DataFrames, PK metrics) N={ng}: {grow['seconds']:.2f} s, "
        f"{grow['seconds_per_patient'] * 1e3:.2f} ms/patient (cohort agrees to "
        f"{grow['max_abs_diff_m_protein_vs_cohort']:.1e} g/dL)"
    )
    # the previous kernel against the course kernel, network only
    ab = kernels_ab(cfg["ab"], C, 1)
    out["previous_kernel_vs_course_kernel"] = ab
    print(
        f"  network only, {ab['patients']} patients, 1 thread: previous Dormand-Prince per step "
        f"{ab['previous_dormand_prince_per_step_seconds']:.2f} s "
        f"(load {ab['previous_load_before']})"
        f", course kernel {ab['course_kernel_seconds']:.2f} s (load "
        f"{ab['course_kernel_load_before']}): {ab['speedup']:.1f}x; "
        f"{ab['course_kernel_attempts_per_step']:.1f} attempts per 4-h step; readouts within "
        f"{ab['max_abs_diff_readouts']:.1e}"
    )
    # the anchor, at the former kernel's tolerance and at the course kernel's (matched)
    from mmmech.dynamics._course import COURSE_ATOL, COURSE_RTOL

    b = bodies(max(ng, cfg["anchor"]), 0)
    anchor_sets = {}
    for label, (rt, at) in {
        "rtol 1e-6": (RTOL, ATOL),
        "matched": (COURSE_RTOL, COURSE_ATOL),
    }.items():
        anchors = []
        for i in range(cfg["anchor"]):
            inp = anchor_inputs(b[i], C)
            ld = load()
            sec, M, M_steps, calls = anchor_run(inp, method=anchor_method, rtol=rt, atol=at)
            diff_m = float(np.abs(M - res_small.m_protein[i]).max())
            diff_steps = float(np.abs(M_steps - res_small.m_protein[i]).max())
            anchors.append(
                {
                    "patient": i,
                    "seconds": sec,
                    "load_before": ld,
                    "rhs_calls": calls,
                    "steps": inp["steps"],
                    "max_abs_diff_m_protein_g_per_dL": diff_m,
                    "max_abs_diff_m_protein_same_tumour_step_g_per_dL": diff_steps,
                }
            )
            print(
                f"  solve_ivp {anchor_method} ({label}: rtol {rt:g}, atol {at:g}), exported "
                f"straight-line "
                f"model + tumour, patient {i}: {sec:.2f} s ({calls:,} rhs calls over "
                f"{inp['steps']} steps; load {ld}); M-protein within {diff_m:.1e} g/dL of mmmech "
                f"({diff_steps:.1e} with mmmech's step-exact tumour integrator on the anchor's "
                f"readouts: the network agreement)"
            )
        anchor_sets[label] = {
            "method": anchor_method,
            "rtol": rt,
            "atol": at,
            "patients_timed": len(anchors),
            "seconds_per_patient": float(np.mean([a["seconds"] for a in anchors])),
            "runs": anchors,
        }
    out["anchor"] = anchor_sets["rtol 1e-6"]
    out["anchor_matched_tolerance"] = anchor_sets["matched"]
    ratios = {}
    print(f"\n  per-patient ratio ({anchor_method} anchor seconds per patient / mmmech's):")
    for row in out["mmmech"]:
        key = f"N={row['patients']},threads={row['threads']}"
        ratios[key] = {
            lab: a["seconds_per_patient"] / row["seconds_per_patient"]
            for lab, a in anchor_sets.items()
        }
        print(
            f"    {key:<22} "
            + "   ".join(f"{v:8.1f}x ({lab})" for lab, v in ratios[key].items())
            + f"   (mmmech {row['seconds_for_all_cycles']:.1f} s for all {row['patients']:,} "
            f"patients x {C} cycles"
            + (", extrapolated" if row["extrapolated"] else "")
            + f", {row['patients'] / row['seconds_for_all_cycles']:.1f} patients/s)"
        )
    ratios["general_path_N=" + str(ng)] = {
        lab: a["seconds_per_patient"] / grow["seconds_per_patient"]
        for lab, a in anchor_sets.items()
    }
    out["ratios_anchor_over_mmmech_per_patient"] = ratios
    BK.write_json(out, args.json_out)
    print(f"\nwrote {args.json_out}")
    return out


if __name__ == "__main__":
    main()
