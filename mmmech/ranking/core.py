"""Rank regimens for one patient: ensemble runs, ordering rule, drivers (``docs/ranking.md``)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import populations as _populations
from .. import regimens as _regimens
from ..dynamics import feedback as _feedback
from ..dynamics.imwg import CATEGORIES, classify
from ..dynamics.regimen import KEY_NODES, simulate_regimens
from ..dynamics.tumour import (
    BIRTH_DOUBLING_DAYS,
    HALF_LIVES,
    integrate,
    scale_rates,
    tumour_model,
)
from ..exceptions import InvalidInputError
from ..pk import cellular as _cellular_pk
from ..toxicity import myelosuppression as _ms
from ..toxicity import toxicity_data

__all__ = [
    "DEFAULT_CYCLES",
    "DEFAULT_ENSEMBLE",
    "DEFAULT_STEP_HOURS",
    "Ranking",
    "default_regimens",
    "rank",
]

#: treatment length in 28-day cycle equivalents (every regimen treated for cycles x 28 days)
DEFAULT_CYCLES = 6
#: ensemble members (member 0 = the typical parameter values)
DEFAULT_ENSEMBLE = 8
#: time step of the network course (h); coarser than simulate_regimen's 4 h to keep rank fast
DEFAULT_STEP_HOURS = 12.0
#: regimens explained with drivers
DEFAULT_TOP = 3
#: days per cycle equivalent
CYCLE_DAYS = 28
#: deeper first
_ORDER = {c: i for i, c in enumerate(reversed(CATEGORIES))}  # PD 0 ... CR 5
_DAYS_PER_MONTH = 30.4375
RESEARCH_NOTE = "research use only, not for clinical decisions"
ORDERING_RULE = (
    "lexicographic on ensemble medians: (1) deeper best response (CR > VGPR > PR > MR > SD > "
    "PD), (2) longer progression-free time (censored at the horizon), (3) lower toxicity "
    "burden = P(grade >= 3 neutropenia) + P(grade >= 2 neuropathy) + P(a drug discontinued) "
    "over the ensemble, (4) deeper M-protein reduction; then name"
)


@dataclass
class Ranking:
    """The result of :func:`rank`: ``to_dict()`` is the ``mmmech rank --json`` document."""

    patient: Any
    regimens: list[dict[str, Any]]
    notes: list[str]
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient.to_dict(),
            "regimens": [dict(r) for r in self.regimens],
            "notes": list(self.notes),
            "ordering": ORDERING_RULE,
            "settings": dict(self.settings),
        }

    def text(self) -> str:
        """A readable table with the drivers of the top regimens."""
        p = self.patient
        lines = [f"patient {p.name or p.id}: {RESEARCH_NOTE}"]
        lines.append(
            f"{'rank':>4}  {'regimen':<14} {'best (interval)':<18} {'PFS months':<18} "
            f"{'reduction':<10} toxicity"
        )
        for r in self.regimens:
            lo, hi = r["best_response_interval"]
            pl, ph = r["pfs_months_interval"]
            pfs = f"{r['pfs_months']:.1f}" + ("+" if r["pfs_censored"] else "")
            t = r["toxicity"]
            lines.append(
                f"{r['rank']:>4}  {r['name']:<14} {r['best_response']:<4} ({lo}-{hi})"
                f"{'':<{max(0, 9 - len(lo) - len(hi))}} {pfs:<5} ({pl:.1f}-{ph:.1f})"
                f"{'':<4} {r['m_protein_reduction']:<10.3f} burden {t['burden']:.2f}, "
                f"ANC grade {t['worst_anc_grade']}, PN grade {t['worst_neuropathy_grade']}, "
                f"reductions {t['dose_reductions']}"
            )
        for r in self.regimens:
            if r["drivers"]:
                lines.append(f"drivers of {r['name']}:")
                lines += [f"  - {d['text']}" for d in r["drivers"]]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _prior_lines(pat: Any) -> int:
    """Prior lines from the patient's features (0 when none says so)."""
    f = set(pat.features)
    if "two_or_three_prior_lines" in f:
        return 2
    if "one_prior_line" in f or any("refractory" in x for x in f):
        return 1
    return 0


_MIN_LINES = re.compile(r">=\s*(\d+)\s*(?:prior\s+)?lines?")


def default_regimens(patient: Any) -> list[str]:
    """The bundled regimens for the patient's setting (``docs/ranking.md``).

    Setting from the patient's features: a prior-line or refractory feature makes it relapsed
    (``two_or_three_prior_lines`` counts 2 lines, ``one_prior_line`` or a ``*_refractory``
    feature 1), otherwise newly diagnosed. Relapsed: the regimens whose indication says
    "relapsed" or "prior" (lines, therapies, regimens) and does not ask for more prior lines
    (">= N lines") than the patient has; newly diagnosed: those whose indication says "newly
    diagnosed". CAR-T products (a cellular-kinetic drug or a dose in cells) are never
    defaults.
    """
    pat = _populations.load_patient(patient)
    lines = _prior_lines(pat)
    cells = set(_cellular_pk.models())
    out = []
    for name in _regimens.available():
        reg = _regimens.load(name)
        if any(d.lower() in cells for d in reg.drugs) or any(
            b.unit.startswith("cells") for p in reg.phases for b in p.drugs
        ):
            continue
        ind = reg.indication.lower()
        if lines == 0:
            if "newly diagnosed" in ind:
                out.append(name)
            continue
        if "relapsed" not in ind and "prior" not in ind:
            continue
        m = _MIN_LINES.search(ind)
        if m and int(m.group(1)) > lines:
            continue
        out.append(name)
    return out


def _check_int(x: Any, name: str, low: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or x < low:
        raise InvalidInputError(f"rank(): {name} must be an integer >= {low}, got {x!r}")
    return x


def _cycles_for(reg: _regimens.Regimen, days: int) -> int:
    """Fewest cycles of `reg` whose schedule covers `days` (all its cycles if it is shorter)."""
    total = None if reg.until_progression else sum(p.cycles or 0 for p in reg.phases)
    n = 0
    covered = 0
    while covered < days:
        n += 1
        if total is not None and n > total:
            return total
        covered, left = 0, n
        for phase in reg.phases:
            covered += phase.delay_days
            k = min(phase.cycles if phase.cycles is not None else left, left)
            covered += k * phase.cycle_days
            left -= k
            if left <= 0 or phase.cycles is None:
                break
    return n


@dataclass(frozen=True)
class _Member:
    birth_doubling_days: float
    half_life_days: float
    neutrophil_sensitivity: float


def _members(k: int, seed: int, isotype: str) -> list[_Member]:
    """Member 0 typical; the others drawn (seeded) from the documented ranges."""
    hl = HALF_LIVES[isotype]
    var = toxicity_data().systems["neutrophils"].iiv_slope_var
    rng = np.random.default_rng(seed)
    out = [_Member(BIRTH_DOUBLING_DAYS.value, hl.value, 1.0)]
    for _ in range(k - 1):
        lo = BIRTH_DOUBLING_DAYS.low or BIRTH_DOUBLING_DAYS.value
        b = float(rng.uniform(lo, BIRTH_DOUBLING_DAYS.high or BIRTH_DOUBLING_DAYS.value))
        h = float(rng.uniform(hl.low if hl.low is not None else hl.value, hl.high or hl.value))
        s = float(math.exp(rng.normal(0.0, math.sqrt(var))))
        out.append(_Member(b, h, s))
    return out


def _reintegrate(tc: Any, m: _Member, tumour: Any, cr: float) -> Any:
    """IMWG response of a member's tumour kinetics on the network course of `tc` (the same
    equations as :mod:`mmmech.dynamics.tumour`, with the member's birth rate and half-life)."""
    hour = tc["hour"].to_numpy()
    dt_days = float(hour[1] - hour[0]) / 24.0

    def col(name: str) -> np.ndarray:
        c = f"node_{name}"
        return tc[c].to_numpy() if c in tc.columns else np.zeros(len(tc))

    P = col("proliferation")
    A = col("apoptosis") + col("immune_killing")
    tm = tumour_model(
        birth_rate=math.log(2) / m.birth_doubling_days,
        isotype=tumour.isotype,
        m0_g_per_dL=tumour.m0_g_per_dL,
    )
    g, d = tm.rates(float(P[0]), float(A[0]))
    rate = g * 0.5 * (P[1:] + P[:-1]) - d * 0.5 * (A[1:] + A[:-1])
    if tumour.growth_scale != 1.0 or tumour.sensitivity_scale != 1.0:
        # the patient's tumour-kinetics multipliers (a patient file's [tumour])
        r0 = g * float(P[0]) - d * float(A[0])
        rate = scale_rates(rate[None, :], r0, tumour.growth_scale, tumour.sensitivity_scale)[0]
    _, M = integrate(rate[None, :], dt_days, math.log(2) / m.half_life_days, tumour.m0_g_per_dL)
    return classify(tc["day"].to_numpy(), M[0], cr_reduction=cr)


def _quantiles(x: Sequence[float]) -> tuple[float, float, float]:
    a = np.asarray(x, dtype=float)
    q = np.quantile(a, [0.5, 0.05, 0.95], method="inverted_cdf")
    return float(q[0]), float(q[1]), float(q[2])


def _cat(i: float) -> str:
    return list(reversed(CATEGORIES))[int(i)]


def rank(
    patient: Any,
    regimens: list[str] | tuple[str, ...] | None = None,
    *,
    cycles: int = DEFAULT_CYCLES,
    ensemble: int = DEFAULT_ENSEMBLE,
    seed: int = 0,
    step_hours: float = DEFAULT_STEP_HOURS,
    toxicity: bool = True,
    top: int = DEFAULT_TOP,
    cr_reduction: float = 0.99,
) -> Ranking:
    """Rank regimens for one patient by depth of response, progression-free time and toxicity.

    Parameters
    ----------
    patient : str, path or Patient
        A patient file or bundled patient (:func:`mmmech.populations.load_patient`).
    regimens : list of names or files, optional
        Candidates (default :func:`default_regimens`: the bundled regimens of the patient's
        setting).
    cycles : int
        Treatment length in 28-day cycle equivalents: each regimen gets the fewest of its own
        cycles that cover ``cycles * 28`` days (default 6); all are followed to the end of the
        longest schedule.
    ensemble : int
        Members (default 8; member 0 is the typical patient): the tumour's intrinsic doubling
        time (15.0-75.4 d), the M-protein half-life (the isotype's range) and the neutrophil
        sensitivity (log-normal, the curated ``iiv_slope_var``) vary; docs/ranking.md.
    seed : int
        Seed of the ensemble draws.
    step_hours : float
        Network time step (default 12 h).
    toxicity : bool
        Feed toxicity back into efficacy (default True): each member gets the doses its
        toxicity course allows.
    top : int
        Regimens explained with drivers (default 3).

    Returns
    -------
    Ranking
        ``to_dict()``: ``{patient, regimens: [{name, rank, best_response, pfs_months,
        toxicity, drivers, ...}], notes, ordering, settings}``.

    Examples
    --------
    >>> import mmmech
    >>> r = mmmech.rank("example", ["rd", "kd"], cycles=2, ensemble=2)  # doctest: +SKIP
    >>> [x["name"] for x in r.to_dict()["regimens"]]  # doctest: +SKIP
    ['rd', 'kd']
    """
    pat = _populations.load_patient(patient)
    cycles = _check_int(cycles, "cycles", 1)
    ensemble = _check_int(ensemble, "ensemble", 1)
    top = _check_int(top, "top", 0)
    seed = _check_int(seed, "seed", 0)
    if not isinstance(toxicity, bool):
        raise InvalidInputError(f"rank(): toxicity must be True or False, got {toxicity!r}")
    names = list(default_regimens(pat)) if regimens is None else list(regimens)
    if isinstance(regimens, (str, bytes, os.PathLike)):
        raise InvalidInputError(f"rank(): regimens must be a list of names, got {regimens!r}")
    if not names:
        raise InvalidInputError(
            "rank(): no candidate regimens (give regimens=[...]; the default list for this "
            "patient's setting is empty)"
        )
    regs = [_regimens.load(n) for n in names]
    seen: set[str] = set()
    for r in regs:
        if r.name in seen:
            raise InvalidInputError(f"rank(): regimen {r.name!r} given twice")
        seen.add(r.name)
    iso = pat.isotype if pat.isotype in HALF_LIVES else "IgG"
    tumour = tumour_model(
        isotype=iso,
        m0_g_per_dL=pat.m_protein_g_dL if pat.isotype in HALF_LIVES else 3.0,
        growth_scale=pat.tumour_scale("growth"),
        sensitivity_scale=pat.tumour_scale("sensitivity"),
    )
    members = _members(ensemble, seed, iso)
    body = pat.regimen_body()
    health = _feedback.patient_health(pat)
    neut = set(_ms.effect_drugs("neutrophils"))
    days = cycles * CYCLE_DAYS
    ncyc = [_cycles_for(r, days) for r in regs]
    max_n = max(ncyc)

    # doses per regimen and member (deduplicated: one network column per distinct dose list)
    specs: list[dict[str, Any]] = []
    col_of: dict[tuple[int, tuple[Any, ...]], int] = {}
    plan: list[list[tuple[int, Any]]] = []  # per regimen: (column, course) per member
    for i, (reg, n) in enumerate(zip(regs, ncyc, strict=True)):
        rows: list[tuple[int, Any]] = []
        cache: Any = None
        for m in members:
            if not toxicity:
                if cache is None:
                    cache = (tuple(_regimens.expand(reg, body=body, cycles=n)), None)
                events, course = cache
            elif neut & set(reg.drugs) or cache is None:
                ev, course = _feedback.toxicity_doses(
                    reg,
                    n,
                    body=body,
                    health=health,
                    neutrophil_sensitivity=m.neutrophil_sensitivity,
                )
                events = tuple(ev)
                if not (neut & set(reg.drugs)):
                    cache = (events, course)
            else:
                events, course = cache
            key = (i, events)
            if key not in col_of:
                col_of[key] = len(specs)
                specs.append(
                    {"regimen": reg, "doses": list(events), "renal_pk": toxicity, "label": ""}
                )
            rows.append((col_of[key], course))
        plan.append(rows)
    results = simulate_regimens(
        specs, cycles=max_n, patient=pat, step_hours=step_hours, cr_reduction=cr_reduction
    )
    horizon_days = float(results[0].timecourse["day"].iloc[-1])

    entries: list[dict[str, Any]] = []
    for i, reg in enumerate(regs):
        cats, pfs, red, censored = [], [], [], 0
        courses = []
        for m, (c, course) in zip(members, plan[i], strict=True):
            resp = _reintegrate(results[c].timecourse, m, tumour, cr_reduction)
            cats.append(_ORDER[resp.best])
            if resp.progression_day is None:
                censored += 1
                pfs.append(horizon_days / _DAYS_PER_MONTH)
            else:
                pfs.append(resp.progression_day / _DAYS_PER_MONTH)
            red.append(resp.max_reduction)
            courses.append(course)
        cmed, clo, chi = _quantiles(cats)
        pmed, plo, phi = _quantiles(pfs)
        rmed, rlo, rhi = _quantiles(red)
        tox = _toxicity_block(courses, toxicity)
        entries.append(
            {
                "name": reg.name,
                "rank": 0,
                "title": reg.title,
                "indication": reg.indication,
                "best_response": _cat(cmed),
                "best_response_interval": [_cat(clo), _cat(chi)],
                "pfs_months": round(pmed, 3),
                "pfs_months_interval": [round(plo, 3), round(phi, 3)],
                "pfs_censored": censored * 2 > len(members),
                "pfs_censored_fraction": censored / len(members),
                "m_protein_reduction": round(rmed, 4),
                "m_protein_reduction_interval": [round(rlo, 4), round(rhi, 4)],
                "cycles": ncyc[i],
                "toxicity": tox,
                "drivers": [],
                "_key": (-cmed, -pmed, tox["burden"], -rmed, reg.name),
                "_col": plan[i][0][0],
            }
        )
    entries.sort(key=lambda e: e["_key"])
    for k, e in enumerate(entries, start=1):
        e["rank"] = k
    for e in entries[:top]:
        reg = next(r for r in regs if r.name == e["name"])
        e["drivers"] = _drivers(
            reg, specs[e["_col"]], results[e["_col"]], pat, tumour, max_n, step_hours, cr_reduction
        )
    for e in entries:
        del e["_key"], e["_col"]

    notes = [
        RESEARCH_NOTE,
        "candidates: "
        + (
            "the bundled regimens of the patient's setting (mmmech.ranking.default_regimens: "
            f"{'relapsed' if _prior_lines(pat) else 'newly diagnosed'}, "
            f"{_prior_lines(pat)} prior line(s) from the features; CAR-T products excluded)"
            if regimens is None
            else "as given"
        ),
        f"ordering: {ORDERING_RULE}",
        f"each regimen treated for the fewest of its cycles covering {days} days ({cycles} x "
        f"28-day equivalents) and followed to day {horizon_days:g}; PFS censored there",
        f"ensemble of {len(members)} (seed {seed}; member 0 typical): tumour intrinsic doubling "
        f"time uniform in {BIRTH_DOUBLING_DAYS.low:g}-{BIRTH_DOUBLING_DAYS.high:g} d "
        f"({BIRTH_DOUBLING_DAYS.source}), {iso} M-protein half-life uniform in its range "
        f"({HALF_LIVES[iso].source}), neutrophil drug sensitivity log-normal "
        f"(iiv_slope_var {toxicity_data().systems['neutrophils'].iiv_slope_var:g}, "
        "structures/toxicity.toml); intervals are the 5th-95th percentiles of the members "
        "(their range for fewer than 20 members). The network's edge weights and potencies are "
        "not varied (the regimen course has no ensemble mechanism yet)",
        (
            "toxicity fed back into efficacy: each member is simulated from the doses its "
            "toxicity course allows (docs/toxicity.md)"
            if toxicity
            else "toxicity not fed back (toxicity=False): full doses, no toxicity course"
        ),
        f"network step {step_hours:g} h (simulate_regimen's default is 4 h)",
        "drivers (top regimens, typical member): drop-one-drug M-protein reduction deltas, the "
        "patient's contexts removed one at a time, and the key nodes that move most",
    ]
    notes += [
        n
        for n in results[0].notes
        if n.startswith(("patient", "IMWG")) and not n.startswith("patient [health]")
    ]
    return Ranking(
        patient=pat,
        regimens=entries,
        notes=list(dict.fromkeys(notes)),
        settings={
            "cycles": cycles,
            "ensemble": len(members),
            "seed": seed,
            "step_hours": step_hours,
            "toxicity": toxicity,
            "top": top,
            "horizon_days": horizon_days,
            "candidates": [r.name for r in regs],
            "members": [m.__dict__ for m in members],
        },
    )


def _toxicity_block(courses: list[Any], toxicity: bool) -> dict[str, Any]:
    """Toxicity over the ensemble: worst grades, fractions, reductions of the typical member."""
    if not toxicity or courses[0] is None:
        return {
            "modelled": False,
            "burden": 0.0,
            "worst_anc_grade": None,
            "worst_neuropathy_grade": None,
            "dose_reductions": None,
        }
    n = len(courses)
    neut = sum(c.worst_grade("anc") >= 3 for c in courses) / n
    pn = sum(c.worst_grade("neuropathy") >= 2 for c in courses) / n
    disc = sum(bool(c.discontinued) for c in courses) / n
    c0 = courses[0]
    return {
        "modelled": True,
        "burden": round(neut + pn + disc, 4),
        "p_grade3_neutropenia": neut,
        "p_grade2_neuropathy": pn,
        "p_discontinuation": disc,
        "worst_anc_grade": c0.worst_grade("anc"),
        "anc_nadir_10e9_L": min(
            (r["anc_nadir"] for r in c0.cycles if r["anc_nadir"] is not None), default=None
        ),
        "worst_neuropathy_grade": c0.worst_grade("neuropathy"),
        "dose_reductions": c0.dose_reductions,
        "holds": sum(1 for a in c0.actions if a["action"] == "hold"),
        "discontinued": c0.discontinued,
        "renal": None
        if c0.renal is None
        else {
            "label_dose_mg": c0.renal["label_dose_mg"],
            "every_days": c0.renal["every_days"],
            "tier": c0.renal["tier"],
        },
        "label_incidence": [
            {k: i[k] for k in ("drug", "toxicity", "grade_at_least", "incidence", "source")}
            for i in c0.incidence
        ],
    }


def _drivers(
    reg: _regimens.Regimen,
    spec: dict[str, Any],
    base: Any,
    pat: Any,
    tumour: Any,
    max_n: int,
    step_hours: float,
    cr: float,
) -> list[dict[str, Any]]:
    """Drop-one-drug deltas, the patient's contexts removed one at a time, the moving nodes."""
    out: list[dict[str, Any]] = []
    red0 = base.response.max_reduction
    given = {e.drug for e in spec["doses"]}
    drugs = [d for d in reg.drugs if d in given]
    if len(drugs) >= 2:
        variants = [{**spec, "drop": [d], "label": f"without {d}"} for d in drugs]
        res = simulate_regimens(
            variants, cycles=max_n, patient=pat, step_hours=step_hours, cr_reduction=cr
        )
        for d, r in zip(drugs, res, strict=True):
            delta = red0 - r.response.max_reduction
            out.append(
                {
                    "kind": "drug",
                    "name": d,
                    "delta_m_protein_reduction": round(delta, 4),
                    "best_response_without": r.best_response,
                    "text": f"{d}: without it the M-protein reduction is "
                    f"{r.response.max_reduction:.1%} instead of {red0:.1%} (best response "
                    f"{r.best_response} instead of {base.best_response})",
                }
            )
    for c in pat.contexts:
        others = [x for x in pat.contexts if x != c]
        r = simulate_regimens(
            [spec],
            cycles=max_n,
            context=["marrow", *others],
            body=pat.regimen_body(),
            covariates=pat.covariates(),
            levels=dict(pat.levels) or None,
            tumour=tumour,
            step_hours=step_hours,
            cr_reduction=cr,
        )[0]
        delta = red0 - r.response.max_reduction
        out.append(
            {
                "kind": "context",
                "name": c,
                "delta_m_protein_reduction": round(delta, 4),
                "best_response_without": r.best_response,
                "text": f"patient context {c}: without it the M-protein reduction would be "
                f"{r.response.max_reduction:.1%} instead of {red0:.1%} (best response "
                f"{r.best_response} instead of {base.best_response})",
            }
        )
    tc = base.timecourse
    moves = []
    for n in KEY_NODES:
        col = f"node_{n}"
        if col in tc.columns:
            v = tc[col].to_numpy()
            moves.append((float(np.mean(v[1:]) - v[0]), n))
    moves.sort(key=lambda x: -abs(x[0]))
    for dv, n in moves[:3]:
        out.append(
            {
                "kind": "node",
                "name": n,
                "mean_change": round(dv, 4),
                "text": f"node {n}: mean activity {'+' if dv >= 0 else ''}{dv:.3f} vs untreated "
                "over the course",
            }
        )
    out.sort(
        key=lambda d: (
            {"drug": 0, "context": 1, "node": 2}[d["kind"]],
            -abs(d.get("delta_m_protein_reduction", d.get("mean_change", 0.0))),
        )
    )
    return out
