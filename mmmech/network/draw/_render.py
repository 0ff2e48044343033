"""Draw a pathway model, optionally coloured by a regimen's effect (matplotlib, Agg backend).

The picture: modules are grouped in labelled boxes laid out as a flow from inputs (left) to
phenotypes (right); activating edges end in an arrow head, inhibiting edges in a bar, edges of
unknown or both signs are dotted. With a regimen, each drug is an orange node wired to the nodes
it acts on (its sign as for any edge), and every node is coloured by its change in steady-state
activity against the untreated state in the same context (blue: lower, red: higher) with a
colour bar, and the readouts before -> after in the corner. Imported networks without modules
are laid out by force direction; large ones (more than `max_nodes`) need ``focus`` nodes, and
the neighbourhood within ``radius`` steps of them is drawn instead of the whole hairball.

matplotlib is imported only when drawing, with the non-interactive Agg backend. Files are
written atomically (temporary file, then ``os.replace``); the format follows the extension
(``.png`` or ``.svg``; ``.pdf`` works too).

Examples
--------
>>> import os, tempfile
>>> out = os.path.join(tempfile.mkdtemp(), "m.png")
>>> info = draw("myeloma", out=out)
>>> info["nodes"] > 50 and os.path.getsize(out) > 10000
True
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ... import _figures
from ..._results import Result
from ..._typing import ContextLike, ModelLike
from ...exceptions import InvalidInputError, UnknownNodeError
from ...simulation.simulator import Simulator, attach_drugs, resolve_drug
from ...units import format_nM
from ...utils import did_you_mean
from ..contexts import load_context
from ..io import load

__all__ = ["DrawResult", "draw", "neighbourhood", "regimen_effect", "layout", "MAX_NODES"]

#: networks larger than this are drawn as a neighbourhood of chosen nodes
MAX_NODES = 150

_KIND_FACE = {
    "protein": "#dbe9f6",
    "process": "#e3f1dc",
    "phenotype": "#fde9b8",
    "input": "#eeeeee",
}
_DRUG_FACE = "#f39c34"
_ACT_COLOR = "#2f6f3e"
_INH_COLOR = "#b2182b"
_UNK_COLOR = "#777777"
_MODULE_COLORS = [
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#86bcb6",
    "#d37295",
    "#a0cbe8",
    "#8cd17d",
    "#f1ce63",
    "#499894",
]


# ---------------------------------------------------------------------- subgraphs
def neighbourhood(
    model: ModelLike, focus: Sequence[str], radius: int = 1, max_nodes: int = MAX_NODES
) -> tuple[list[str], int]:
    """Nodes within `radius` steps (either direction) of the `focus` nodes.

    Parameters
    ----------
    model : PathwayModel, bundled name or path
    focus : sequence of str
    radius : int >= 0
    max_nodes : int
        When the neighbourhood is larger, the nodes closest to the focus are kept (then the
        most connected).

    Returns
    -------
    (list of str, int)
        The kept nodes (focus first) and the size of the whole neighbourhood.
    """
    m = load(model)
    focus = list(dict.fromkeys(focus))
    if not focus:
        raise InvalidInputError("neighbourhood(): give at least one focus node")
    for f in focus:
        if f not in m.nodes:
            raise UnknownNodeError(
                f"neighbourhood(): focus node {f!r} is not in model "
                f"{m.name!r}{did_you_mean(f, m.nodes)}"
            )
    try:
        radius = int(radius)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"neighbourhood(): radius must be an integer >= 0, got {radius!r}"
        ) from None
    if radius < 0:
        raise InvalidInputError(f"neighbourhood(): radius must be >= 0, got {radius}")
    if int(max_nodes) < len(focus):
        raise InvalidInputError(
            f"neighbourhood(): max_nodes ({max_nodes}) is smaller than the "
            f"number of focus nodes ({len(focus)})"
        )
    adj = defaultdict(set)
    for e in m.edges:
        adj[e.source].add(e.target)
        adj[e.target].add(e.source)
    dist = {f: 0 for f in focus}
    queue = deque(focus)
    while queue:
        u = queue.popleft()
        if dist[u] >= radius:
            continue
        for v in adj[u]:
            if v not in dist:
                dist[v] = dist[u] + 1
                queue.append(v)
    ranked = sorted(dist, key=lambda n: (dist[n], -len(adj[n]), n))
    return ranked[: int(max_nodes)], len(dist)


def _context_for(model, context):
    """The context, restricted to nodes of an imported model (whose names differ)."""

    ctx = load_context(context)
    if getattr(model, "curated", True):
        return ctx, []
    keep = {k: v for k, v in ctx.settings.items() if k in model.nodes}
    dropped = sorted(set(ctx.settings) - set(keep))
    return dataclasses.replace(ctx, settings=keep), dropped


def regimen_effect(
    model: ModelLike,
    regimen: Mapping[str, float] | None = None,
    context: ContextLike = "cell_line",
    settings: Mapping[str, float] | None = None,
    backend: str = "auto",
) -> dict:
    """Steady states untreated and under a regimen (and/or node settings), and the change.

    Parameters
    ----------
    model : PathwayModel, bundled name or path
    regimen : mapping drug -> nM, optional
    context : str, path or Context
    settings : mapping node -> value in [0, 1], optional
        Fixed only in the treated state (for imported models, which have no drug actions).

    Returns
    -------
    dict
        ``{untreated: {node: y}, treated: {node: y}, change: {node: treated - untreated},
        readouts: {name: (untreated, treated)}, drugs: [(drug, nM, [(target_node, sign)])],
        notes: [...]}``
    """
    m = load(model)
    regimen = dict(regimen or {})
    settings = dict(settings or {})
    if regimen and not m.actions:
        raise InvalidInputError(
            f"model {m.name!r} has no drug actions (imported models do not "
            f"say how drugs attach); set nodes instead (settings, "
            f"--set NODE=VALUE)"
        )
    ctx, dropped = _context_for(m, context)
    notes = []
    if dropped:
        notes.append(
            f"context {ctx.name}: {len(dropped)} setting(s) for nodes this model does "
            f"not have were left out ({', '.join(dropped[:5])})"
        )
    drugs = [resolve_drug(d) for d in regimen]
    conc = [[0.0] * len(drugs), [float(regimen[d]) for d in regimen]]
    base = Simulator(m, drugs, context=ctx)
    res0 = base.run(conc, backend=backend)
    if settings:
        treated_sim = Simulator(m, drugs, context=ctx, settings=settings)
        res1 = treated_sim.run(conc, backend=backend)
        row = 1
    else:
        res1, row = res0, 1
    for ok in (res0.converged[0], res1.converged[row]):
        if not ok:
            notes.append(
                "a steady state was not reached; colours show the state at the end of "
                "the integration budget"
            )
    names = list(m.nodes)
    y0 = {n: float(res0.node(n)[0]) for n in names}
    y1 = {n: float(res1.node(n)[row]) for n in names}
    att = attach_drugs(m, drugs)
    wiring = []
    for d, dose in zip(drugs, conc[1], strict=True):
        links = []
        for src, dst, sign, _label in att.edges:
            if src.startswith("drug_") and any(
                c["node"] == src and c["drug"] == d.name for c in att.columns
            ):
                if (dst, sign) not in links:
                    links.append((dst, sign))
        wiring.append((d.name, dose, links))
    notes += [n for n in att.notes]
    readouts = {
        k: (float(res0.readouts[k][0]), float(res1.readouts[k][row])) for k in res0.readouts
    }
    return {
        "untreated": y0,
        "treated": y1,
        "change": {n: y1[n] - y0[n] for n in names},
        "readouts": readouts,
        "drugs": wiring,
        "notes": notes,
        "context": ctx.name,
        "context_dropped": dropped,
    }


# ---------------------------------------------------------------------- layout
def _depths(nodes, edges, sources, missing="deepest"):
    """Shortest distance from any source; unreachable nodes get one past the deepest (or
    `missing` when it is not ``"deepest"``)."""
    out = defaultdict(list)
    for s, t in edges:
        out[s].append(t)
    dist = {s: 0 for s in sources if s in nodes}
    if not dist:
        dist = {n: 0 for n in nodes[:1]}
    queue = deque(dist)
    members = set(nodes)
    while queue:
        u = queue.popleft()
        for v in out[u]:
            if v in members and v not in dist:
                dist[v] = dist[u] + 1
                queue.append(v)
    fill = max(dist.values(), default=0) + 1 if missing == "deepest" else missing
    return {n: dist.get(n, fill) for n in nodes}


def layout(
    model: ModelLike,
    nodes: Sequence[str] | None = None,
    extra_edges: Sequence[tuple] = (),
    seed: int = 0,
) -> tuple[dict, dict]:
    """Positions of `nodes` (default: all) of a model.

    Models with modules: a module per box, boxes in columns ordered by the median distance of
    their nodes to the readouts (upstream modules left, phenotypes right), boxes in a column
    ordered by the mean height of their neighbours, nodes in a box on a grid ordered by depth.
    Without modules: force-directed, one connected component at a time (Kamada-Kawai up to 150
    nodes, else spring with a fixed seed), overlapping labels pushed apart.

    Returns
    -------
    (dict node -> (x, y), dict module -> (x0, y0, x1, y1))
    """
    m = load(model)
    nodes = list(m.nodes) if nodes is None else list(nodes)
    keep = set(nodes)
    edges = [(e.source, e.target) for e in m.edges if e.source in keep and e.target in keep]
    edges += [(s, t) for s, t in extra_edges if s in keep and t in keep]
    modules = defaultdict(list)
    for n in nodes:
        modules[m.nodes[n].module if n in m.nodes else ""].append(n)
    if len(modules) <= 1 or (len(modules) == 2 and "" in modules):
        return _force_layout(nodes, edges, seed), {}
    # flow position: distance to the readouts, upstream (far) on the left; without readouts,
    # minus the distance from the inputs
    sinks = [r for r in m.readouts.values() if r in keep]
    if sinks:
        dist = _depths(nodes, [(t, s) for s, t in edges], sinks, missing=None)
        depth = {n: -d for n, d in dist.items() if d is not None}
    else:
        sources = [n for n in nodes if n not in m.nodes or m.nodes[n].rule is None]
        depth = _depths(nodes, edges, sources, missing=None)
        depth = {n: d for n, d in depth.items() if d is not None}
    lo = min(depth.values(), default=0)
    depth = {n: depth.get(n, lo) for n in nodes}
    rank = {mod: sorted(depth[n] for n in ns)[len(ns) // 2] for mod, ns in modules.items()}
    order = sorted(modules, key=lambda mod: (rank[mod], mod))
    cell_w, cell_h = 2.3, 0.9
    dims = {}
    for mod in order:
        k = len(modules[mod])
        cols = max(1, min(3, math.ceil(math.sqrt(k / 1.6))))
        rows = math.ceil(k / cols)
        dims[mod] = (cols, rows)
    total = sum(dims[mod][1] + 1.2 for mod in order)
    n_cols = max(1, round(math.sqrt(total * cell_h / (1.1 * 3 * cell_w)) * 1.05))
    n_cols = min(n_cols, len(order))
    per_col = total / n_cols
    columns: list[list[str]] = [[]]
    acc = 0.0
    for mod in order:
        h = dims[mod][1] + 1.2
        if columns[-1] and acc + h / 2 > per_col * len(columns) and len(columns) < n_cols:
            columns.append([])
        columns[-1].append(mod)
        acc += h
    mod_of = {n: (m.nodes[n].module if n in m.nodes else "") for n in nodes}
    neighbours = defaultdict(set)
    for s, t in edges:
        if mod_of[s] != mod_of[t]:
            neighbours[mod_of[s]].add(mod_of[t])
            neighbours[mod_of[t]].add(mod_of[s])
    centre_y: dict[str, float] = {}
    pos, boxes = {}, {}
    x = 0.0
    for ci, col in enumerate(columns):
        if ci > 0:

            def bary(mod):
                ys = [centre_y[o] for o in neighbours[mod] if o in centre_y]
                return sum(ys) / len(ys) if ys else 0.0

            col.sort(key=lambda mod: (-bary(mod), rank[mod], mod))
        width = max(dims[mod][0] for mod in col) * cell_w
        height = sum(dims[mod][1] * cell_h + 1.0 for mod in col)
        y = height / 2
        for mod in col:
            cols, rows = dims[mod]
            members = sorted(modules[mod], key=lambda n: (depth[n], nodes.index(n)))
            h = rows * cell_h
            x0 = x + (width - cols * cell_w) / 2
            for i, n in enumerate(members):
                c, r = divmod(i, rows)
                pos[n] = (x0 + (c + 0.5) * cell_w, y - 0.55 - (r + 0.5) * cell_h)
            boxes[mod] = (x0 + 0.05, y - 0.55 - h - 0.1, x0 + cols * cell_w - 0.05, y - 0.05)
            centre_y[mod] = y - 0.55 - h / 2
            y -= h + 1.0
        x += width + 1.3
    return pos, boxes


def _force_layout(nodes, edges, seed):
    """Force-directed positions in node-cell units: each connected component laid out on its
    own (Kamada-Kawai up to 150 nodes, else spring), components packed in rows, unconnected
    nodes on a grid below, then label boxes pushed apart."""
    import networkx as nx  # deferred: networkx loads on first use (keeps import mmmech fast)

    if not nodes:
        return {}
    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_edges_from((s, t) for s, t in edges if s != t)
    comps = sorted(
        (sorted(c, key=nodes.index) for c in nx.connected_components(g)),
        key=lambda c: (-len(c), nodes.index(c[0])),
    )
    blocks = []
    singles = [c[0] for c in comps if len(c) == 1]
    for comp in comps:
        if len(comp) == 1:
            continue
        sub = g.subgraph(comp)
        if len(comp) <= 150:
            raw = nx.kamada_kawai_layout(sub)
        else:
            raw = nx.spring_layout(sub, seed=seed, k=2.0 / math.sqrt(len(comp)), iterations=200)
        xs = [p[0] for p in raw.values()]
        ys = [p[1] for p in raw.values()]
        span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
        side = max(3.0, 2.6 * math.sqrt(len(comp)))
        blocks.append(
            {
                n: ((p[0] - min(xs)) / span * side, (p[1] - min(ys)) / span * side)
                for n, p in raw.items()
            }
        )
    pos = {}
    row_w = max([max(x for x, _ in b.values()) for b in blocks] + [12.0])
    x = y = row_h = 0.0
    for b in blocks:
        w = max(px for px, _ in b.values()) + 3.0
        h = max(py for _, py in b.values()) + 2.0
        if x > 0 and x + w > row_w + 1e-9:
            x, y, row_h = 0.0, y - row_h, 0.0
        for n, (px, py) in b.items():
            pos[n] = (x + px, y - h + 2.0 + py)
        x += w
        row_h = max(row_h, h)
    y -= row_h
    per_row = max(1, int(row_w // 2.4) + 1)
    for i, n in enumerate(singles):
        r, c = divmod(i, per_row)
        pos[n] = (c * 2.4, y - 0.5 - r * 0.9)
    return _separate(pos)


def _separate(pos, iterations=150):
    """Push overlapping label boxes apart (label width from its length, in node-cell units)."""
    import numpy as np  # deferred: NumPy loads on first use (keeps import mmmech fast)

    names = list(pos)
    if len(names) < 2:
        return pos
    P = np.array([pos[n] for n in names], dtype=float)
    hw = np.array([0.055 * len(n) + 0.25 for n in names])
    hh = np.full(len(names), 0.28)
    ws = hw[:, None] + hw[None, :] + 0.1
    hs = hh[:, None] + hh[None, :] + 0.1
    eye = np.eye(len(names), dtype=bool)
    for _ in range(iterations):
        dx = P[:, None, 0] - P[None, :, 0]
        dy = P[:, None, 1] - P[None, :, 1]
        ox = ws - np.abs(dx)
        oy = hs - np.abs(dy)
        hit = (ox > 0) & (oy > 0) & ~eye
        if not hit.any():
            break
        along_x = hit & (ox / ws <= oy / hs)
        along_y = hit & ~along_x
        sx = np.where(dx >= 0, 1.0, -1.0)
        sy = np.where(dy >= 0, 1.0, -1.0)
        P[:, 0] += (
            0.5 * (np.where(along_x, ox * sx, 0.0)).sum(axis=1) / np.maximum(hit.sum(axis=1), 1)
        )
        P[:, 1] += (
            0.5 * (np.where(along_y, oy * sy, 0.0)).sum(axis=1) / np.maximum(hit.sum(axis=1), 1)
        )
    return {n: (float(x), float(y)) for n, (x, y) in zip(names, P, strict=True)}


# ---------------------------------------------------------------------- drawing
def draw(
    model: ModelLike = "myeloma",
    regimen: Mapping[str, float] | None = None,
    context: ContextLike = "cell_line",
    out: str | os.PathLike | None = None,
    focus: Sequence[str] | None = (),
    radius: int = 1,
    max_nodes: int = MAX_NODES,
    settings: Mapping[str, float] | None = None,
    title: str | None = None,
    dpi: int = 130,
    seed: int = 0,
    backend: str = "auto",
) -> DrawResult:
    """Draw a model (optionally under a regimen) and write it to `out`.

    Parameters
    ----------
    model : PathwayModel, bundled name or path
    regimen : mapping drug -> concentration in nM, optional
        Nodes are coloured by their change against the untreated state.
    context : str, path or Context
    out : str, optional
        ``.png``, ``.svg`` or ``.pdf``; written atomically. None: nothing is written (the
        matplotlib Figure, on an Agg canvas at `dpi`, is returned as ``figure``).
    focus : sequence of str
        Draw only the neighbourhood of these nodes (needed above `max_nodes` nodes).
    radius : int
        Steps from the focus nodes (either direction).
    max_nodes : int
    settings : mapping node -> value in [0, 1], optional
        Nodes fixed in the treated state (imported models have no drug actions).
    title : str, optional
    dpi : int
    seed : int
        Seed of force-directed layouts (drawings are reproducible).

    Returns
    -------
    DrawResult
        ``out, nodes, edges, total_nodes, focus, changes`` (with a regimen or settings, largest
        first), ``readouts`` (untreated, treated), ``notes`` and, without `out`, ``figure``.
    """
    m = load(model)
    if out is not None:
        # a picture format, and only a regular file (or a link to one) in a folder that exists
        _figures.check_output_path(out, "draw", "out")
    focus = list(focus or ())
    total = len(m.nodes)
    notes = []
    if focus:
        nodes, hood = neighbourhood(m, focus, radius, max_nodes)
        if hood > len(nodes):
            notes.append(
                f"neighbourhood of {', '.join(focus)} (radius {radius}) has {hood} "
                f"nodes; the {len(nodes)} closest are drawn"
            )
    elif total > max_nodes:
        deg: defaultdict[str, int] = defaultdict(int)
        for e in m.edges:
            deg[e.source] += 1
            deg[e.target] += 1
        hubs = sorted(deg, key=lambda n: (-deg[n], n))[:5]
        raise InvalidInputError(
            f"draw(): model {m.name!r} has {total} nodes, too many for a "
            f"readable picture (max_nodes={max_nodes}); choose nodes to "
            f"centre on with focus (--focus NODE ... --radius K), e.g. the "
            f"most connected: {', '.join(hubs)}"
        )
    else:
        nodes = list(m.nodes)
    effect = None
    if regimen or settings:
        effect = regimen_effect(m, regimen, context, settings, backend=backend)
        notes += effect["notes"]
    drug_nodes, drug_edges = [], []
    if effect:
        for dname, dose, links in effect["drugs"]:
            label = f"{dname}\n{format_nM(dose)}"
            hit = [(t, s) for t, s in links if t in set(nodes)]
            if hit:
                drug_nodes.append(label)
                drug_edges += [(label, t, s) for t, s in hit]
    keep = set(nodes)
    edges = [(e.source, e.target, e.sign) for e in m.edges if e.source in keep and e.target in keep]
    pos, boxes = layout(m, nodes, seed=seed)
    _place_drugs(pos, boxes, drug_nodes, drug_edges)
    fig = _render(
        m,
        nodes,
        edges,
        pos,
        boxes,
        drug_nodes,
        drug_edges,
        effect,
        focus,
        title,
        regimen,
        settings,
        dpi,
    )
    changes, readouts = None, None
    if effect:
        ch = {n: effect["change"][n] for n in nodes}
        changes = dict(sorted(ch.items(), key=lambda kv: -abs(kv[1])))
        readouts = {k: list(v) for k, v in effect["readouts"].items()}
    if out is not None:
        _save(fig, os.fspath(out), dpi)
    return DrawResult(
        out=None if out is None else os.fspath(out),
        nodes=len(nodes),
        edges=len(edges) + len(drug_edges),
        total_nodes=total,
        focus=None if focus is None else tuple(focus),
        notes=tuple(notes),
        changes=changes,
        readouts=readouts,
        figure=fig if out is None else None,
    )


@dataclass(frozen=True)
class DrawResult(Result):
    """What :func:`draw` drew.

    Attributes
    ----------
    out : str or None
        The file written (None: nothing written; the figure is in `figure`).
    nodes, edges, total_nodes : int
        Nodes and edges drawn (drug nodes and edges included) and the model's node count.
    focus : tuple of str or None
    notes : tuple of str
    changes : dict node -> float, or None
        Change of each drawn node against the untreated state, largest first (with a regimen
        or settings).
    readouts : dict name -> [untreated, treated], or None
    figure : matplotlib.figure.Figure or None
        The figure on an Agg canvas when `out` was None (not part of ``to_dict()``).
    """

    out: str | None
    nodes: int
    edges: int
    total_nodes: int
    focus: tuple | None = None
    notes: tuple = ()
    changes: dict | None = None
    readouts: dict | None = None
    figure: object = None

    _not_serialized = ("figure",)


def _place_drugs(pos, boxes, drug_nodes, drug_edges):
    """Drugs in a column left of everything, each at the mean height of its targets."""
    if not drug_nodes:
        return
    xs = [p[0] - 1.0 for p in pos.values()] + [b[0] for b in boxes.values()] or [0.0]
    x = min(xs) - 1.8
    want = {}
    for d in drug_nodes:
        ys = [pos[t][1] for s, t, _ in drug_edges if s == d and t in pos]
        want[d] = sum(ys) / len(ys) if ys else 0.0
    placed = sorted(drug_nodes, key=lambda d: -want[d])
    last = None
    for d in placed:
        y = want[d] if last is None else min(want[d], last - 1.6)
        pos[d] = (x, y)
        last = y


def _render(
    m,
    nodes,
    edges,
    pos,
    boxes,
    drug_nodes,
    drug_edges,
    effect,
    focus,
    title,
    regimen,
    settings,
    dpi,
):
    # matplotlib costs about 0.3 s: it loads when a picture is drawn, not with import mmmech
    import matplotlib  # deferred (matplotlib)
    from matplotlib import cm  # deferred (matplotlib)
    from matplotlib import colors as mcolors  # deferred (matplotlib)
    from matplotlib.lines import Line2D  # deferred (matplotlib)
    from matplotlib.patches import ArrowStyle, FancyArrowPatch, FancyBboxPatch, Patch  # deferred

    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    for x0, y0, x1, y1 in boxes.values():
        xs += [x0, x1]
        ys += [y0, y1]
    # a margin on the right keeps the legend off the network (with a regimen the legend goes
    # to the side panel under the colour bar)
    legend_w = 0.0 if effect else 4.2
    w = max(xs) - min(xs) + 3.0 + legend_w
    h = max(ys) - min(ys) + 2.5
    n = len(nodes) + len(drug_nodes)
    scale = 0.62
    fig_w = min(max(w * scale + (3.2 if effect else 0.6), 8.0), 40.0)
    fig_h = min(max(h * scale + 1.6, 6.0), 30.0)
    fig = _figures.new_figure((fig_w, fig_h), dpi)  # own Agg canvas; pyplot untouched
    ax = fig.add_axes([0.01, 0.01, 0.98 if not effect else 0.84, 0.93])
    ax.set_xlim(min(xs) - 1.5, max(xs) + 1.5 + legend_w)
    ax.set_ylim(min(ys) - 1.0, max(ys) + 0.8)
    ax.set_axis_off()
    fs = 8.0

    for i, (mod, (x0, y0, x1, y1)) in enumerate(sorted(boxes.items())):
        col = _MODULE_COLORS[i % len(_MODULE_COLORS)]
        ax.add_patch(
            FancyBboxPatch(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                boxstyle="round,pad=0.05,rounding_size=0.25",
                fc=mcolors.to_rgba(col, 0.10),
                ec=mcolors.to_rgba(col, 0.7),
                lw=1.2,
                zorder=0,
            )
        )
        dark = tuple(0.6 * c for c in mcolors.to_rgb(col))
        ax.text(
            x0 + 0.12,
            y1 - 0.08,
            mod or "(no module)",
            ha="left",
            va="top",
            fontsize=fs + 0.5,
            fontweight="bold",
            color=dark,
            zorder=1,
        )

    norm = cmap = None
    if effect:
        lim = max([abs(effect["change"][n]) for n in nodes] + [0.05])
        lim = math.ceil(lim * 20) / 20
        norm = mcolors.TwoSlopeNorm(vmin=-lim, vcenter=0.0, vmax=lim)
        cmap = matplotlib.colormaps["RdBu_r"]
    texts = {}
    focus_set = set(focus)
    for n in nodes:
        node = m.nodes[n]
        face = _KIND_FACE.get(node.kind, "#ffffff")
        if effect:
            face = cmap(norm(effect["change"][n]))
        style = "round,pad=0.3"
        ls = "--" if node.rule is None else "-"
        lw = 2.4 if n in focus_set else (1.3 if node.kind == "phenotype" else 0.8)
        weight = "bold" if node.kind == "phenotype" or n in focus_set else "normal"
        texts[n] = ax.text(
            *pos[n],
            n,
            ha="center",
            va="center",
            fontsize=fs,
            fontweight=weight,
            zorder=3,
            color=_text_color(face),
            bbox=dict(boxstyle=style, fc=face, ec="#333333", lw=lw, ls=ls),
        )
    for d in drug_nodes:
        texts[d] = ax.text(
            *pos[d],
            d,
            ha="center",
            va="center",
            fontsize=fs + 0.5,
            fontweight="bold",
            zorder=3,
            color="black",
            bbox=dict(boxstyle="round4,pad=0.4", fc=_DRUG_FACE, ec="#7a4100", lw=1.5),
        )
    arrows = []

    def edge(s, t, sign, is_drug=False):
        if sign > 0:
            style, color, ls = ArrowStyle("-|>", head_length=0.6, head_width=0.3), _ACT_COLOR, "-"
        elif sign < 0:
            style, color, ls = ArrowStyle("-[", widthB=0.55, lengthB=0.0), _INH_COLOR, "-"
        else:
            style, color, ls = ArrowStyle("-"), _UNK_COLOR, ":"
        if s == t:
            return  # self-loops (autoregulation) are not drawn
        conn = "arc3,rad=0.12"
        arr = FancyArrowPatch(
            pos[s],
            pos[t],
            arrowstyle=style,
            connectionstyle=conn,
            mutation_scale=12,
            lw=1.8 if is_drug else 1.0,
            color=color,
            alpha=0.95 if is_drug else 0.65,
            linestyle=ls,
            patchA=texts[s].get_bbox_patch(),
            patchB=texts[t].get_bbox_patch(),
            shrinkA=1,
            shrinkB=2,
            zorder=2,
        )
        ax.add_patch(arr)
        arrows.append(arr)

    for s, t, sign in edges:
        edge(s, t, sign)
    for s, t, sign in drug_edges:
        edge(s, t, sign, is_drug=True)

    handles = [
        Line2D(
            [0],
            [0],
            color=_ACT_COLOR,
            lw=1.5,
            marker=">",
            markersize=7,
            markevery=[1],
            label="activates",
        ),
        Line2D(
            [0],
            [0],
            color=_INH_COLOR,
            lw=1.5,
            marker="|",
            markersize=10,
            markeredgewidth=2,
            markevery=[1],
            label="inhibits",
        ),
        Line2D([0], [0], color=_UNK_COLOR, lw=1.2, ls=":", label="unknown / both signs"),
        Patch(fc="white", ec="#333333", ls="--", label="input (no rule)"),
    ]
    if drug_nodes:
        handles.append(Patch(fc=_DRUG_FACE, ec="#7a4100", label="drug (dose shown)"))
    if not effect:
        handles += [
            Patch(fc=c, ec="#333333", label=k)
            for k, c in _KIND_FACE.items()
            if k != "input" and any(m.nodes[x].kind == k for x in nodes)
        ]
    if effect:
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.852, 0.2),
            fontsize=fs + 0.5,
            frameon=True,
            title="legend",
            title_fontsize=fs + 1,
        )
    else:
        leg = ax.legend(
            handles=handles,
            loc="lower right",
            fontsize=fs + 0.5,
            frameon=True,
            framealpha=0.9,
            title="legend",
            title_fontsize=fs + 1,
        )
        leg.set_zorder(5)
    if effect:
        cax = fig.add_axes([0.875, 0.42, 0.014, 0.45])
        cb = fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax)
        cb.set_label("activity change vs untreated\n(treated - untreated)", fontsize=fs + 1)
        cb.ax.tick_params(labelsize=fs)
        if effect["readouts"]:
            lines = [f"{k}: {a:.2f} -> {b:.2f}" for k, (a, b) in sorted(effect["readouts"].items())]
            fig.text(
                0.858,
                0.36,
                "readouts\n(untreated -> treated)\n" + "\n".join(lines),
                fontsize=fs,
                va="top",
                ha="left",
                family="monospace",
            )
    if title is None:
        title = f"{m.name}"
        if regimen:
            title += " under " + " + ".join(f"{d} {format_nM(v)}" for d, v in regimen.items())
        if settings:
            title += " with " + ", ".join(f"{k}={v:g}" for k, v in settings.items())
        if effect and (m.curated or not effect.get("context_dropped")):
            title += f" ({effect['context']})"
        if focus:
            title += f" — neighbourhood of {', '.join(focus)}"
    fig.suptitle(title, fontsize=fs + 5, fontweight="bold", y=0.985)
    fig.canvas.draw()  # sizes the text boxes the arrows are clipped to
    return fig


def _text_color(face):
    # deferred: matplotlib loads on first use (keeps import mmmech fast)
    from matplotlib import colors as mcolors

    r, g, b, _ = mcolors.to_rgba(face)
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.45 else "black"


def _save(fig, path, dpi):
    """Write the (already drawn once, so arrows clip to the sized text boxes) figure
    atomically, through mmmech's one figure writer."""
    _figures.save_figure(fig, path, dpi=dpi, func="draw", name="out", facecolor="white")
