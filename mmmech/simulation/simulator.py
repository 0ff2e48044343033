"""Drugs + pathway network + context + mutations -> batched simulations.

:class:`Simulator` attaches a set of drugs to a pathway model once (each drug becomes one input
node per target it acts on, holding the target occupancy computed from the dose), applies the
context (effector cells, stroma, knockouts, settings) and target mutations (potency shifts),
compiles once, and then runs any number of dose points in one batched kernel call.
:func:`simulate` is the convenience entry point (``mmmech.simulate``).

How each drug action attaches is read from the model file's ``[actions]`` table (see
``docs/semantics.md``). Occupancy of a drug at a target: ``theta = c^h / (c^h + K^h)`` with
``K = potency_nM x fold`` (fold from :func:`mmmech.structures.potency_shifts` for mutations).

Examples
--------
>>> import numpy as np
>>> from types import SimpleNamespace as NS
>>> inhibitor = NS(name="toy", targets=(NS(target="PSMB5", action="inhibit", potency_nM=10.0,
...                hill=1.0, e3=None, neo_substrates=()),))
>>> sim = Simulator("myeloma", [inhibitor], context="cell_line")
>>> res = sim.run(np.array([[0.0], [100.0]]), backend="python")
>>> bool(res.readouts["viability"][1] < res.readouts["viability"][0])
True
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import numpy.typing as npt

from .. import drugs as _drugs
from .. import network as pathways
from .. import structures
from .._guards import check_ensemble, check_fraction, check_sample_memory, check_seed
from .._typing import ContextLike, DrugLike, ModelLike, SeedLike
from ..exceptions import InvalidInputError, UnknownNodeError
from ..network.contexts import load_context
from ..network.model import Attachment, attach_drugs, drug_node_name
from ..resources import file_stamp
from ..utils import check_random_state, did_you_mean
from .compiled import ParamSet, compile_model
from .occupancy import occupancy
from .propagate import steady_state

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    import pandas as pd

    from ..drugs import Drug
    from ..network.contexts import Context
    from ..network.model import PathwayModel
    from .compiled import CompiledModel

__all__ = [
    "Simulator",
    "SimulationResult",
    "EnsembleParams",
    "simulate",
    "simulate_batch",
    "sample_params",
    "attach_drugs",
    "Attachment",
    "resolve_drug",
    "drug_node_name",
]


# ---------------------------------------------------------------------- drugs
def resolve_drug(drug: DrugLike) -> Drug:
    """A Drug from a name (through :func:`mmmech.drugs.get`) or a Drug-like object as is."""
    if isinstance(drug, str):
        return _drugs.get(drug)
    if not hasattr(drug, "name") or not hasattr(drug, "targets"):
        raise InvalidInputError(
            f"a drug must be a name or a Drug (with .name and .targets), got {type(drug).__name__}"
        )
    return drug


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class SimulationResult:
    """Steady states of R regimens.

    Attributes
    ----------
    nodes : tuple of str, length N
    y : ndarray (R, N)
        Node activities.
    readouts : dict str -> ndarray (R,)
    converged : ndarray (R,) of bool
    conc : ndarray (R, D), nM
    drugs : tuple of str, length D
    """

    nodes: tuple[str, ...]
    y: np.ndarray
    readouts: dict[str, np.ndarray]
    converged: np.ndarray
    conc: np.ndarray
    drugs: tuple[str, ...]

    def node(self, name: str) -> np.ndarray:
        """Activities (R,) of one node."""
        try:
            return self.y[:, self.nodes.index(name)]
        except ValueError:
            raise UnknownNodeError(
                f"no node {name!r} in the result{did_you_mean(name, self.nodes)}"
            ) from None


@dataclass(frozen=True)
class EnsembleParams(ParamSet):
    """A :class:`~mmmech.simulation.compiled.ParamSet` of M sets plus per-set potency multipliers.

    ``potency_multiplier`` (M, C) multiplies the potency K of each drug-target column
    (:attr:`Simulator.columns`)."""

    potency_multiplier: np.ndarray | None = None


# ---------------------------------------------------------------------- simulator
def _node_items(
    model_nodes: Mapping[str, Any],
    mapping: Mapping[str, float] | None,
    func: str,
    name: str,
    shape: str,
    verb: str,
) -> Iterator[tuple[str, Any]]:
    """The ``(node, value)`` pairs of a ``{node: value}`` argument, each node checked to exist
    (one-line errors naming `name`, its expected `shape` and what `verb` could not do)."""
    if mapping is not None and not isinstance(mapping, Mapping):
        raise InvalidInputError(
            f"{func}(): {name} must be a mapping {{{shape}}}, "
            f"got {type(mapping).__name__} {mapping!r:.60}"
        )
    for k, v in dict(mapping or {}).items():
        if k not in model_nodes:
            raise UnknownNodeError(
                f"{func}(): cannot {verb} unknown node {k!r}{did_you_mean(k, model_nodes)}"
            )
        yield k, v


def _check_settings(
    model_nodes: Mapping[str, Any], settings: Mapping[str, float] | None, func: str
) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in _node_items(
        model_nodes, settings, func, "settings", "node: value in [0, 1]", "set"
    ):
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"{func}(): value for {k} must be a number in [0, 1], got {v!r}"
            ) from None
        if not (0.0 <= fv <= 1.0):
            raise InvalidInputError(f"{func}(): value for {k} must lie in [0, 1], got {fv}")
        out[k] = fv
    return out


def _check_levels(
    model_nodes: Mapping[str, Any], levels: Mapping[str, float] | None, func: str
) -> dict[str, float]:
    """{node: relative level >= 0} (the node must exist; the value a finite number >= 0)."""
    out: dict[str, float] = {}
    for k, v in _node_items(
        model_nodes, levels, func, "levels", "node: relative level >= 0", "give a level to"
    ):
        if isinstance(v, (bool, np.bool_)):
            raise InvalidInputError(f"{func}(): level of {k} must be a number >= 0, got {v!r}")
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"{func}(): level of {k} must be a number >= 0, got {v!r}"
            ) from None
        if not (math.isfinite(fv) and fv >= 0.0):
            raise InvalidInputError(f"{func}(): level of {k} must be finite and >= 0, got {fv}")
        out[k] = fv
    return out


def _level_overrides(
    model: PathwayModel, att: Attachment, levels: Mapping[str, float], func: str
) -> tuple[dict[str, float], dict[str, float]]:
    """The ``(y0, ymax)`` overrides that give every node its relative level.

    A node with a rule: ``ymax x level``. A node without one holds ``y0 x level``; when a drug
    acts on it (it then follows its implicit ``<NODE>.basal`` input), a level above 1 raises the
    basal input (``y0 x level``) and a level below 1 lowers its ``ymax`` (so an agonist, too,
    can raise it only to the lower ceiling). The result must stay within [0, 1].
    """
    y0: dict[str, float] = {}
    ymax: dict[str, float] = {}

    def refuse(node, what, base, lv):
        top = 1.0 / base
        raise InvalidInputError(
            f"{func}(): level {lv:g} of {node} would raise its {what} {base:g} above 1; "
            f"the largest level allowed for {node} is {math.floor(top * 1000) / 1000:g}"
        )

    for node, lv in levels.items():
        spec = model.nodes[node]
        basal = f"{node}.basal"
        if spec.rule is None and basal in att.y0:
            b = float(att.y0[basal])
            if lv <= 1.0:
                ymax[node] = float(att.ymax.get(node, 1.0)) * lv
            elif b * lv > 1.0:
                refuse(node, "baseline y0", b, lv)
            else:
                y0[basal] = b * lv
        elif spec.rule is None:
            b = float(att.y0.get(node, spec.y0))
            if b * lv > 1.0:
                refuse(node, "baseline y0", b, lv)
            y0[node] = b * lv
        else:
            b = float(att.ymax.get(node, spec.ymax))
            if b * lv > 1.0:
                refuse(node, "ceiling ymax", b, lv)
            ymax[node] = b * lv
    return y0, ymax


class Simulator:
    """Drugs attached to a pathway model in a context, compiled once, run in batches.

    Parameters
    ----------
    model : PathwayModel, bundled name or path (default "myeloma")
    drugs : sequence of drug names or Drug objects, length D
    context : str, path, Context or a list of them composed in order (default "cell_line")
    knockouts : sequence of node names (fixed at 0)
    settings : mapping node -> value in [0, 1] (fixed)
    mutations : sequence of mutation strings (``"PSMB5 A49T"``) or parsed mutations
    levels : mapping node -> relative level >= 0, optional
        Abundance relative to the model's baseline, on top of (and replacing, node by node)
        the context's ``[levels]``. Unlike `settings` the node stays dynamic, so drugs still
        act on it (see ``docs/semantics.md``, Contexts).
    params : mapping parameter name -> value, optional
        Values of the model's named parameters (default: curated defaults).
    folds : mapping {drug: {target: fold}}, optional
        Potency shifts given directly (bypasses the structure layer).

    Attributes
    ----------
    compiled : CompiledModel
    columns : list of dict (one per drug-target input; see :class:`Attachment`)
    notes : list of str
    """

    def __init__(
        self,
        model: ModelLike = "myeloma",
        drugs: Sequence[DrugLike] = (),
        context: ContextLike = "cell_line",
        knockouts: Sequence[str] = (),
        settings: Mapping[str, float] | None = None,
        mutations: Sequence[Any] = (),
        params: Mapping[str, float] | None = None,
        folds: Mapping[str, Mapping[str, float]] | None = None,
        levels: Mapping[str, float] | None = None,
    ) -> None:
        func = "Simulator"
        self.model: PathwayModel = pathways.load(model)
        self.drugs = tuple(resolve_drug(d) for d in drugs)
        names = [d.name for d in self.drugs]
        if len(set(names)) != len(names):
            raise InvalidInputError(f"{func}(): each drug may appear once, got {names}")
        self.context: Context = load_context(context)
        nodes = self.model.nodes
        ctx_raw: dict[str, float] = dict(self.context.settings)
        ctx_levels: dict[str, float] = dict(getattr(self.context, "levels", None) or {})
        ctx_dropped: list[str] = []
        if not getattr(self.model, "curated", True):
            # an imported model (mmmech.network.io) does not share the curated node names: the
            # context sets only the nodes it has
            ctx_dropped = sorted(k for k in {**ctx_raw, **ctx_levels} if k not in nodes)
            ctx_raw = {k: v for k, v in ctx_raw.items() if k in nodes}
            ctx_levels = {k: v for k, v in ctx_levels.items() if k in nodes}
        else:
            alien = [k for k in {**ctx_raw, **ctx_levels} if k not in nodes]
            if alien:
                more = ", ..." if len(alien) > 4 else ""
                raise UnknownNodeError(
                    f"{func}(): context {self.context.name!r} does not fit model "
                    f"{self.model.name!r}: it sets node(s) the model does not have "
                    f"({', '.join(alien[:4])}{more}); pass a context written for this model "
                    f"(a context file: --context my_context.toml, context='my_context.toml') or "
                    f"none (--context none, context='none')"
                )
        ctx_settings = _check_settings(nodes, ctx_raw, f"{func}(context {self.context.name!r})")
        knockouts = _names_arg(knockouts, "knockouts", func, ("node names", "node"))
        mutations = _names_arg(
            mutations, "mutations", func, ("mutations such as 'PSMB5 A49T'", "mutation")
        )
        for k in knockouts:
            if k not in nodes:
                raise UnknownNodeError(
                    f"{func}(): cannot knock out unknown node {k!r}{did_you_mean(k, nodes)}"
                )
        user = _check_settings(nodes, settings, func)
        fixed = dict(ctx_settings)
        fixed.update({k: 0.0 for k in knockouts or ()})
        fixed.update(user)
        self.fixed = fixed
        all_levels = _check_levels(nodes, ctx_levels, f"{func}(context {self.context.name!r})")
        all_levels.update(_check_levels(nodes, levels, func))
        #: node -> relative level in force (context levels, then `levels`; fixed nodes left out)
        self.levels = {k: v for k, v in all_levels.items() if k not in fixed}
        ignored_levels = sorted(k for k in all_levels if k in fixed)
        self.knockouts = tuple(knockouts or ())
        self.mutations = tuple(self.context.mutations) + tuple(mutations or ())
        all_folds: dict[str, dict[str, float]] = {}
        if self.mutations:
            all_folds = self._mutation_folds(self.mutations)
        for dname, per in (folds or {}).items():
            all_folds.setdefault(dname, {}).update(per)
        self.folds = all_folds
        self.parameter_values = dict(params or {})
        att = attach_drugs(self.model, self.drugs, all_folds)
        self.attachment = att
        self.notes = list(att.notes)
        if ctx_dropped:
            more = ", ..." if len(ctx_dropped) > 5 else ""
            self.notes.append(
                f"context {self.context.name}: settings for {len(ctx_dropped)} "
                f"node(s) this imported model does not have were not applied "
                f"({', '.join(ctx_dropped[:5])}{more})"
            )
        if ignored_levels:
            self.notes.append(
                f"level of {', '.join(ignored_levels)} has no effect: the node is fixed "
                f"(a setting, knockout or overexpression overrides a level)"
            )
        self.columns = att.columns
        lv_y0, lv_ymax = _level_overrides(self.model, att, self.levels, func)
        self.compiled: CompiledModel = compile_model(
            self.model,
            extra_nodes=att.extra_nodes,
            rules=att.rules,
            edge_params=att.edge_params,
            y0={**att.y0, **lv_y0},
            ymax={**att.ymax, **lv_ymax},
            parameter_values=self.parameter_values,
        )
        cm = self.compiled
        N = cm.n_nodes
        self._base_mask = np.zeros(N, dtype=np.uint8)
        self._base_value = np.zeros(N)
        for k, v in fixed.items():
            i = cm.index(k)
            self._base_mask[i] = 1
            self._base_value[i] = v
        self._col_node = np.array([cm.index(c["node"]) for c in self.columns], dtype=np.int64)
        self._col_drug = np.array([c["drug_index"] for c in self.columns], dtype=np.int64)
        self._col_K = np.array([c["K"] for c in self.columns], dtype=float)
        self._col_h = np.array([c["hill"] for c in self.columns], dtype=float)
        # a drug input fixed by the user (e.g. --knockout of a target) stays as the user set it
        self._col_free = np.array([c["node"] not in fixed for c in self.columns], dtype=bool)

    def _mutation_folds(self, mutations: Sequence[Any]) -> dict[str, dict[str, float]]:
        parsed = structures.unique_mutations(
            [structures.parse_mutation(m) if isinstance(m, str) else m for m in mutations],
            "Simulator",
        )
        self.mutations = tuple(parsed)
        shifts = structures.potency_shifts(parsed, self.drugs)
        return {d: dict(v) for d, v in shifts.items()}

    @property
    def drug_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.drugs)

    def occupancy(
        self, conc: npt.ArrayLike, potency_multiplier: npt.ArrayLike | None = None
    ) -> np.ndarray:
        """Occupancy of every drug-target column: (R, C) from concentrations (R, D) in nM.

        `potency_multiplier` (R, C) scales each row's potencies (ensembles). Every row goes
        through the one occupancy function (:func:`mmmech.simulation.occupancy.occupancy`),
        grouped by distinct multiplier rows, so a member with multiplier 1 gives bit for bit
        what the curated model gives.
        """
        c = np.ascontiguousarray(np.asarray(conc, dtype=float)[:, self._col_drug])
        if c.shape[1] == 0:
            return c
        if potency_multiplier is None:
            return occupancy(c, self._col_K, self._col_h)
        mult = np.asarray(potency_multiplier, dtype=float)
        out = np.empty_like(c)
        rows, group = np.unique(mult, axis=0, return_inverse=True)
        group = group.reshape(-1)
        for g, m in enumerate(rows):
            sel = group == g
            out[sel] = occupancy(c[sel], self._col_K * m, self._col_h)
        return out

    def _conc(self, conc: npt.ArrayLike, func: str) -> np.ndarray:
        D = len(self.drugs)
        try:
            a = np.asarray(conc, dtype=float)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"{func}(): conc must be numeric (nM), got {conc!r:.80}"
            ) from None
        if a.ndim == 1 and D == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[1] != D or a.shape[0] < 1:
            raise InvalidInputError(
                f"{func}(): conc must have shape (R, {D}) (regimens x drugs "
                f"{list(self.drug_names)}), nM; got {a.shape}"
            )
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            bad = a[~np.isfinite(a) | (a < 0)][:3].tolist()
            raise InvalidInputError(
                f"{func}(): concentrations must be finite and >= 0 nM, got {bad}"
            )
        return np.ascontiguousarray(a)

    def fixed_arrays(
        self,
        conc: np.ndarray,
        params: ParamSet | None = None,
        param_index: npt.ArrayLike | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-regimen ``(fixed_mask (R, N), fixed_value (R, N))`` for concentrations (R, D)."""
        R = conc.shape[0]
        mask = np.broadcast_to(self._base_mask, (R, self._base_mask.size)).copy()
        value = np.broadcast_to(self._base_value, (R, self._base_value.size)).copy()
        if self.columns:
            mult = None
            if isinstance(params, EnsembleParams) and params.potency_multiplier is not None:
                pi = np.zeros(R, dtype=np.int64) if param_index is None else np.asarray(param_index)
                mult = np.asarray(params.potency_multiplier)[pi]
            occ = self.occupancy(conc, mult)
            cols = self._col_node[self._col_free]
            mask[:, cols] = 1
            value[:, cols] = occ[:, self._col_free]
        return mask, value

    def run(
        self,
        conc: npt.ArrayLike,
        backend: str = "auto",
        param_index: npt.ArrayLike | None = None,
        params: ParamSet | None = None,
        tol: float = 1e-6,
        max_steps: int = 20000,
        num_threads: int = 0,
    ) -> SimulationResult:
        """Steady state of R regimens in one batched call.

        Parameters
        ----------
        conc : array_like (R, D), nM
            Concentration of each attached drug (columns in the order of `drugs`).
        backend : {"auto", "cython", "python"}
        param_index : array_like (R,) of int, optional
            Parameter set of each regimen (with an ensemble `params`).
        params : ParamSet or EnsembleParams, optional
            From :meth:`sample_params` (default: the curated parameters).
        tol, max_steps, num_threads : see :func:`mmmech.simulation.propagate.steady_state`

        Returns
        -------
        SimulationResult
        """
        c = self._conc(conc, "Simulator.run")
        mask, value = self.fixed_arrays(c, params, param_index)
        ps = (
            None
            if params is None
            else ParamSet(params.w, params.n, params.ec50, params.tau, params.ymax)
        )
        ss = steady_state(
            self.compiled,
            mask,
            value,
            params=ps,
            param_index=param_index,
            tol=tol,
            max_steps=max_steps,
            backend=backend,
            num_threads=num_threads,
        )
        y = np.asarray(ss.y)
        converged = np.asarray(ss.converged, dtype=bool)
        cm = self.compiled
        readouts = {k: y[:, i].copy() for k, i in cm.readouts.items()}
        return SimulationResult(
            nodes=cm.nodes,
            y=y,
            readouts=readouts,
            converged=converged,
            conc=c,
            drugs=self.drug_names,
        )

    def sample_params(self, M: int, seed: SeedLike = None, spread: float = 0.2) -> EnsembleParams:
        """M parameter sets sampled around the curated ones (see :func:`sample_params`)."""
        return sample_params(self, M, seed=seed, spread=spread)


def _stream(seed: int, *key: object) -> np.random.Generator:
    """A Generator keyed by ``(seed, *key)``: the same numbers in any process, any order."""
    digest = hashlib.sha256("\x1f".join(str(k) for k in key).encode("utf-8")).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence([int(seed)] + words))


def sample_params(
    simulator: Simulator, M: int, seed: SeedLike = None, spread: float = 0.2
) -> EnsembleParams:
    """Ensemble of M parameter sets for a :class:`Simulator`.

    Every quantity is drawn from its own random stream keyed by the seed and by what it varies
    (the model edge, the named parameter, the drug and target), so the same seed gives the same
    variant of an edge or a drug whatever else is simulated: every combination of a screen and
    ``mmmech score`` see the same ensemble, in any process and any order.

    What is sampled (set 0 is always the curated set):

    * named parameters (contested edges, ``[parameters]``): uniform in their recorded
      ``[low, high]``;
    * every other curated edge: weight ``w x U(1 - spread, 1 + spread)`` clipped to [0, 1], and
      EC50 ``x exp(U(-log(1 + spread), log(1 + spread)))`` kept where the normalized Hill
      function is defined (``EC50**n < 0.5``); drug and basal identity edges are not sampled;
    * per drug-target potency multiplier: log-uniform within the recorded potency range
      (``Potency.low/value .. high/value``) where the drug layer records one, else 1.

    Returns
    -------
    EnsembleParams
        ``w, n, ec50`` (M, E), ``tau, ymax`` (M, N), ``potency_multiplier`` (M, C).
    """
    func = "sample_params"
    if not isinstance(simulator, Simulator):
        raise InvalidInputError(
            f"{func}(): needs a mmmech.model.Simulator, got {type(simulator).__name__}"
        )
    M = check_ensemble(M, func, name="M", minimum=1)
    seed = check_seed(seed, func, allow_none=True, allow_generator=True)
    if seed is None or isinstance(seed, np.random.Generator):
        seed = int(check_random_state(seed).integers(0, 2**62))
    seed = int(seed)
    spread = check_fraction(spread, func, "spread", include_low=True)
    cm = simulator.compiled
    check_sample_memory(M, cm.n_edges, cm.n_nodes, len(simulator.columns), func)
    base = cm.params
    w = np.repeat(base.w, M, axis=0)
    n = np.repeat(base.n, M, axis=0)
    ec50 = np.repeat(base.ec50, M, axis=0)
    model = simulator.model
    mname = model.name
    named = {}
    if M > 1:
        for pname in sorted(model.parameters):
            p = model.parameters[pname]
            named[pname] = _stream(seed, mname, "parameter", pname).uniform(p.low, p.high, M - 1)
    lo_ec = math.log1p(spread)
    for e in model.edges:
        try:
            k = cm.edge_index(e.source, e.target)
        except UnknownNodeError:
            continue
        if M == 1:
            continue
        if e.parameter is not None:
            w[1:, k] = named[e.parameter]
            continue
        factor = _stream(seed, mname, "edge", e.source, e.target, "w").uniform(
            1.0 - spread, 1.0 + spread, M - 1
        )
        ec_draw = _stream(seed, mname, "edge", e.source, e.target, "ec50").uniform(
            -lo_ec, lo_ec, M - 1
        )
        w[1:, k] = np.clip(w[0, k] * factor, 0.0, 1.0)
        if not (n[0, k] == 1.0 and ec50[0, k] == 0.5):
            cap = 0.5 ** (1.0 / n[0, k]) * 0.98
            ec50[1:, k] = np.minimum(ec50[0, k] * np.exp(ec_draw), cap)
    C = len(simulator.columns)
    mult = np.ones((M, C))
    for j, col in enumerate(simulator.columns):
        r = col.get("potency_range")
        if M > 1 and r and r[0] > 0 and r[1] > 0:
            lo, hi = sorted((math.log(r[0]), math.log(r[1])))
            g = _stream(seed, "potency", col["drug"], col["target"])
            mult[1:, j] = np.exp(g.uniform(lo, hi, M - 1))
    ens = EnsembleParams(
        w=w,
        n=n,
        ec50=ec50,
        tau=np.repeat(base.tau, M, axis=0),
        ymax=np.repeat(base.ymax, M, axis=0),
        potency_multiplier=mult,
    )
    ens.validate(cm.n_nodes, cm.n_edges, func)
    return ens


# ---------------------------------------------------------------------- simulate()
_SIM_CACHE: dict[tuple[Any, ...], tuple[Simulator, tuple[Any, ...]]] = {}
_SIM_CACHE_MAX = 32


def _source_key(obj):
    """Cache-key part for a model or context given as a name, a path or an object.

    A file is keyed by its absolute path, modification time and size, so an edited file is read
    again; a bundled name by the name; an object by its identity (the cache entry keeps the
    object alive, so the identity cannot be reused by another object while the entry exists);
    a list of contexts (composed in order) by the keys of its items.
    """
    if isinstance(obj, (list, tuple)):
        return ("compose", *(_source_key(o) for o in obj))
    if isinstance(obj, (str, os.PathLike)):
        text = os.fspath(obj)
        if os.path.isfile(text):
            return ("file", *file_stamp(text))
        return ("name", text)
    return ("object", id(obj))


def _drug_key(drug):
    if isinstance(drug, str):
        return ("name", drug.lower())
    try:
        hash(drug)
    except TypeError:
        return ("object", id(drug))
    return ("drug", drug)  # value equality: two molecules with the same name stay apart


def _cached_simulator(model, drugs, context, knockouts, settings, mutations, params, levels=None):
    key = None
    try:
        key = (
            _source_key(model),
            tuple(_drug_key(d) for d in drugs),
            _source_key(context),
            tuple(knockouts),
            tuple(sorted(settings.items())),
            tuple(str(m) for m in mutations),
            tuple(sorted((params or {}).items())),
            tuple(sorted((levels or {}).items())),
        )
        hash(key)
    except TypeError:
        key = None
    if key is not None and key in _SIM_CACHE:
        return _SIM_CACHE[key][0]
    sim = Simulator(
        model,
        drugs,
        context=context,
        knockouts=knockouts,
        settings=settings,
        mutations=mutations,
        params=params,
        levels=levels,
    )
    if key is not None:
        if len(_SIM_CACHE) >= _SIM_CACHE_MAX:
            _SIM_CACHE.pop(next(iter(_SIM_CACHE)))
        # keeps keyed objects alive (a list of contexts as a tuple: the items are keyed)
        ctx_ref = tuple(context) if isinstance(context, list) else context
        _SIM_CACHE[key] = (sim, (model, ctx_ref, tuple(drugs)))  # keeps keyed objects alive
    return sim


def _names_arg(value, what, func, example):
    """A sequence of names as a tuple; a single string is refused (it is not a list of
    one-letter names)."""
    if value is None:
        return ()
    if isinstance(value, (str, bytes)):
        raise InvalidInputError(
            f"{func}(): {what} must be a list of {example[0]}, got the string "
            f"{value!r}; write [{value!r}] for one {example[1]}"
        )
    try:
        return tuple(value)
    except TypeError:
        raise InvalidInputError(
            f"{func}(): {what} must be a list of {example[0]}, got {type(value).__name__}"
        ) from None


def _regimen(reg, func):
    if not isinstance(reg, dict):
        raise InvalidInputError(
            f"{func}(): a regimen must be a dict {{drug: nM}}, got {type(reg).__name__}"
        )
    out = {}
    for name, v in reg.items():
        if isinstance(v, (bool, np.bool_)):
            raise InvalidInputError(
                f"{func}(): dose of {name!r} must be a number of nM, got {v!r} "
                f"(a bool is not a dose)"
            )
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"{func}(): dose of {name!r} must be a number of nM, got {v!r}"
            ) from None
        if not math.isfinite(fv) or fv < 0:
            raise InvalidInputError(
                f"{func}(): dose of {name!r} must be finite and >= 0 nM, got {v!r}"
            )
        out[name] = fv
    return out


@overload
def simulate(
    model: ModelLike = ...,
    regimens: Mapping[str, float] | None = ...,
    context: ContextLike = ...,
    knockouts: Sequence[str] = ...,
    settings: Mapping[str, float] | None = ...,
    mutations: Sequence[Any] = ...,
    backend: str = ...,
    params: Mapping[str, float] | None = ...,
    nodes: bool = ...,
    levels: Mapping[str, float] | None = ...,
) -> dict[str, Any]: ...


@overload
def simulate(
    model: ModelLike,
    regimens: list[Mapping[str, float]] | tuple[Mapping[str, float], ...],
    context: ContextLike = ...,
    knockouts: Sequence[str] = ...,
    settings: Mapping[str, float] | None = ...,
    mutations: Sequence[Any] = ...,
    backend: str = ...,
    params: Mapping[str, float] | None = ...,
    nodes: bool = ...,
    levels: Mapping[str, float] | None = ...,
) -> pd.DataFrame: ...


def simulate(
    model: ModelLike = "myeloma",
    regimens: Mapping[str, float] | Sequence[Mapping[str, float]] | None = None,
    context: ContextLike = "cell_line",
    knockouts: Sequence[str] = (),
    settings: Mapping[str, float] | None = None,
    mutations: Sequence[Any] = (),
    backend: str = "auto",
    params: Mapping[str, float] | None = None,
    nodes: bool = True,
    levels: Mapping[str, float] | None = None,
) -> dict[str, Any] | pd.DataFrame:
    """Steady state of a pathway model under one regimen.

    Parameters
    ----------
    model : PathwayModel, bundled name or path
    regimens : dict {drug: nM}, optional
        One regimen (None or ``{}``: untreated). A list of regimens still works for this
        release but is deprecated: use :func:`simulate_batch`, which always returns a DataFrame.
    context : "cell_line", "marrow", a context file or a Context, or a list of them composed in
        order (``["marrow", "t11_14"]``)
    knockouts : sequence of node names
    settings : mapping node -> value in [0, 1]
    mutations : sequence of mutation strings, e.g. ``["PSMB5 A49T"]``
    backend : {"auto", "cython", "python"}
    params : mapping model-parameter name -> value, optional
    nodes : bool
        Include every node's activity.
    levels : mapping node -> relative level >= 0, optional
        Node abundance relative to the model's baseline; the node stays dynamic (drugs still act
        on it), unlike `settings`.

    Returns
    -------
    dict
        ``{context, drugs: {name: nM}, readouts: {viability, apoptosis, proliferation, ...},
        nodes: {NODE: activity}, converged, notes, levels}`` (``levels``: the relative levels in
        force, from the context and `levels`). A regimen that did not reach steady state
        is flagged (``converged`` False) and warned about, never silently returned.

    Examples
    --------
    >>> out = simulate("myeloma", {}, context="marrow")
    >>> sorted(out["readouts"])[:3], out["converged"]
    (['angiogenesis', 'apoptosis', 'immune_killing'], True)
    """
    if isinstance(regimens, (list, tuple)):
        warnings.warn(
            "simulate(): a list of regimens is deprecated (the result type depended on "
            "the input); use simulate_batch(), which always returns a DataFrame",
            DeprecationWarning,
            stacklevel=2,
        )
        return simulate_batch(
            model,
            regimens,
            context=context,
            knockouts=knockouts,
            settings=settings,
            mutations=mutations,
            backend=backend,
            params=params,
            nodes=nodes,
            levels=levels,
        )
    sim, conc, canon, res = _run(
        "simulate",
        model,
        [regimens],
        context,
        knockouts,
        settings,
        mutations,
        backend,
        params,
        levels,
    )
    out = {
        "context": sim.context.name,
        "drugs": canon[0],
        "readouts": {k: float(v[0]) for k, v in res.readouts.items()},
        "converged": bool(res.converged[0]),
        "notes": list(sim.notes),
        "levels": dict(sim.levels),
    }
    if nodes:
        out["nodes"] = {n: float(res.y[0, sim.compiled.index(n)]) for n in sim.model.nodes}
    return out


def simulate_batch(
    model: ModelLike = "myeloma",
    regimens: Sequence[Mapping[str, float]] = (),
    context: ContextLike = "cell_line",
    knockouts: Sequence[str] = (),
    settings: Mapping[str, float] | None = None,
    mutations: Sequence[Any] = (),
    backend: str = "auto",
    params: Mapping[str, float] | None = None,
    nodes: bool = True,
    levels: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Steady states of a batch of regimens in one call: always a DataFrame.

    Parameters are those of :func:`simulate`, with `regimens` a non-empty sequence of
    ``{drug: nM}`` dicts.

    Returns
    -------
    pandas.DataFrame
        One row per regimen: columns ``<drug>_nM``, the readouts, ``converged`` and (with
        `nodes`) every node. ``attrs`` holds ``context`` and ``notes``.

    Examples
    --------
    >>> df = simulate_batch("myeloma", [{}, {"bortezomib": 10.0}], context="cell_line")
    >>> list(df.columns[:2]), len(df), bool(df["viability"][1] < df["viability"][0])
    (['bortezomib_nM', 'viability'], 2, True)
    """
    if not isinstance(regimens, (list, tuple)):
        raise InvalidInputError(
            f"simulate_batch(): regimens must be a list of {{drug: nM}} "
            f"dicts, got {type(regimens).__name__}; for one regimen use "
            f"simulate()"
        )
    sim, conc, _, res = _run(
        "simulate_batch",
        model,
        list(regimens),
        context,
        knockouts,
        settings,
        mutations,
        backend,
        params,
        levels,
    )
    import pandas as pd  # deferred: pandas costs ~0.3 s and only batches need it

    cols = {f"{d.name}_nM": conc[:, j] for j, d in enumerate(sim.drugs)}
    cols.update({k: v for k, v in res.readouts.items()})
    cols["converged"] = res.converged
    if nodes:
        for n in sim.model.nodes:
            if n not in cols:
                cols[n] = res.y[:, sim.compiled.index(n)]
    df = pd.DataFrame(cols)
    df.attrs["context"] = sim.context.name
    df.attrs["notes"] = list(sim.notes)
    df.attrs["levels"] = dict(sim.levels)
    return df


def _run(
    func, model, regimens, context, knockouts, settings, mutations, backend, params, levels=None
):
    """Resolve the drugs of a batch of regimens, run them on a cached Simulator.

    Returns ``(simulator, conc (R, D) nM, canonical regimens, SimulationResult)``.
    """
    regs = [_regimen(r or {}, func) for r in regimens]
    if not regs:
        raise InvalidInputError(f"{func}(): regimens must not be an empty list")
    knockouts = _names_arg(knockouts, "knockouts", func, ("node names", "node"))
    mutations = _names_arg(
        mutations, "mutations", func, ("mutations such as 'PSMB5 A49T'", "mutation")
    )
    drug_objs, order = [], {}
    for reg in regs:
        spelled = {}
        for name in reg:
            d = resolve_drug(name)
            if d.name in spelled:
                raise InvalidInputError(
                    f"{func}(): {d.name} is given twice in one regimen, as "
                    f"{spelled[d.name]!r} and {name!r}; give each drug once"
                )
            spelled[d.name] = name
            if d.name not in order:
                order[d.name] = len(drug_objs)
                drug_objs.append(d)
    if settings is not None and not isinstance(settings, Mapping):
        raise InvalidInputError(
            f"{func}(): settings must be a mapping {{node: value in [0, 1]}}, "
            f"got {type(settings).__name__} {settings!r:.60}"
        )
    settings = dict(settings or {})
    if levels is not None and not isinstance(levels, Mapping):
        raise InvalidInputError(
            f"{func}(): levels must be a mapping {{node: relative level >= 0}}, "
            f"got {type(levels).__name__} {levels!r:.60}"
        )
    sim = _cached_simulator(
        model, drug_objs, context, knockouts, settings, mutations, params, dict(levels or {})
    )
    conc = np.zeros((len(regs), len(drug_objs)))
    canon = []
    for r, reg in enumerate(regs):
        names = {}
        for name, v in reg.items():
            d = resolve_drug(name)
            conc[r, order[d.name]] = v
            names[d.name] = v
        canon.append(names)
    res = sim.run(conc, backend=backend)
    if not res.converged.all():
        bad = np.nonzero(~res.converged)[0].tolist()
        warnings.warn(
            f"{func}(): {len(bad)} regimen(s) did not reach steady state "
            f"(rows {bad[:10]}); their values are flagged converged=False",
            RuntimeWarning,
            stacklevel=3,
        )
    return sim, conc, canon, res
