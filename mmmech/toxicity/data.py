"""The toxicity data file ``structures/toxicity.toml``: records, reading and validation.

Every record keeps its source identifier, population and ``verified`` flag; a malformed file is
one :class:`~mmmech.exceptions.ModelFileError` line naming the file, the table and the field.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ModelFileError
from ..resources import data_file, parse_toml
from ..sources import is_source

__all__ = [
    "GradeScale",
    "SystemParameters",
    "DrugEffect",
    "Incidence",
    "NeuropathyModel",
    "NeuropathyTimeModel",
    "PlateletSystem",
    "PlateletEffect",
    "RenalTier",
    "RenalModel",
    "ToxicityData",
    "read_toxicity",
    "toxicity_data",
]

_NCT = re.compile(r"^NCT\d{8}$")
BASES = ("pkpd_model", "derived", "label_incidence", "cumulative_dose")


@dataclass(frozen=True)
class GradeScale:
    """CTCAE grades of one count: grade g when the count is below the g-th threshold."""

    measure: str
    unit: str
    grade2_below: float
    grade3_below: float
    grade4_below: float
    source: str
    verified: bool
    note: str

    def grade(self, value: float) -> int:
        """The CTCAE grade (0-4; 0 also stands for grade 1, which needs the lab's LLN)."""
        if value < self.grade4_below:
            return 4
        if value < self.grade3_below:
            return 3
        if value < self.grade2_below:
            return 2
        return 0


@dataclass(frozen=True)
class SystemParameters:
    """Friberg system parameters of one lineage: mean transit time, feedback, baseline."""

    lineage: str
    mtt_h: float
    gamma: float
    baseline: float
    source: str
    population: str
    verified: bool
    note: str
    iiv_baseline_var: float = 0.0
    iiv_slope_var: float = 0.0


@dataclass(frozen=True)
class DrugEffect:
    """A drug's effect on proliferation: ``E = slope * C`` (C in mg/L) or Emax form."""

    drug: str
    lineage: str
    basis: str
    effect: str
    slope: float
    source: str
    population: str
    verified: bool
    note: str
    derivation: Mapping[str, Any]


@dataclass(frozen=True)
class Incidence:
    """A label (or single-agent trial) grade >= `grade` incidence at a dose: the fallback."""

    drug: str
    toxicity: str
    grade: int
    basis: str
    dose_mg: float
    schedule: str
    incidence: float
    source: str
    population: str
    verified: bool
    note: str
    #: unit of `dose_mg` ("mg" unless the source doses by weight, area or cells)
    dose_unit: str = "mg"
    #: (low, high) when sources disagree (`incidence` is the one used); None otherwise
    incidence_range: tuple[float, float] | None = None


@dataclass(frozen=True)
class NeuropathyModel:
    """Cumulative-dose neuropathy: one grade per `onset` (by route) of cumulative dose."""

    drug: str
    basis: str
    dose_unit: str
    onset: Mapping[str, float]
    source: str
    population: str
    verified: bool
    note: str
    reported: Mapping[str, float]
    #: population model (round 5): calibration exposure, its route, median onset among affected
    calibration_dose: float | None = None
    calibration_route: str = "iv"
    median_onset_among_affected: float | None = None
    #: the calibration trial's dose path: cycles, dose per cycle, reduced dose per cycle
    calibration_path: tuple[int, float, float] | None = None


@dataclass(frozen=True)
class NeuropathyTimeModel:
    """Neuropathy incidence by time on drug: two published (months, incidence) points."""

    drug: str
    basis: str
    points: tuple[tuple[float, float], tuple[float, float]]
    source: str
    population: str
    verified: bool
    note: str


@dataclass(frozen=True)
class RenalTier:
    """One row of the label's starting-dose table by creatinine clearance."""

    label: str
    crcl_min: float
    dose_mg: float
    every_days: int
    dialysis: bool


@dataclass(frozen=True)
class RenalModel:
    """Renal dependence of a drug's clearance and the label's starting doses."""

    drug: str
    fraction_renal: float
    crcl_reference: float
    source: str
    verified: bool
    note: str
    auc_increase_low: float
    auc_increase_high: float
    tiers: tuple[RenalTier, ...]
    label_source: str
    label_verified: bool
    label_note: str


@dataclass(frozen=True)
class PlateletSystem:
    """Srimani-type platelet system: production ``kin``, maturation ``kprp`` (1/h), baseline."""

    kprp_per_h: float
    kin_per_h: float
    baseline: float
    baseline_covariate: float
    baseline_covariate_center: float
    baseline_prop_sd: float
    baseline_add_sd: float
    source: str
    population: str
    verified: bool
    note: str

    @property
    def baseline_sd(self) -> float:
        """SD of the individual baseline when no observed baseline is given (10^9/L)."""
        return math.hypot(self.baseline_prop_sd * self.baseline, self.baseline_add_sd)


@dataclass(frozen=True)
class PlateletEffect:
    """A drug's first-order loss from the platelet precursor pool."""

    drug: str
    basis: str
    form: str
    slope: float
    source: str
    population: str
    verified: bool
    note: str
    auc_scale_per_h: float = 0.0
    kpd_rate_per_h: float = 0.0
    derivation: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToxicityData:
    """The whole file."""

    grades: Mapping[str, GradeScale]
    systems: Mapping[str, SystemParameters]
    effects: tuple[DrugEffect, ...]
    incidences: tuple[Incidence, ...]
    neuropathy: Mapping[str, NeuropathyModel]
    renal: Mapping[str, RenalModel]
    neuropathy_time: Mapping[str, NeuropathyTimeModel]
    platelet_system: PlateletSystem | None = None
    platelet_effects: tuple[PlateletEffect, ...] = ()


class _Reader:
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, msg: str) -> ModelFileError:
        return ModelFileError(f"{self.origin}: {where}: {msg}")

    def num(self, t: Mapping[str, Any], key: str, where: str, low: float = 0.0) -> float:
        v = t.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.fail(where, f"'{key}' expected a number, got {v!r}")
        if v < low:
            raise self.fail(where, f"'{key}' expected a number >= {low:g}, got {v!r}")
        return float(v)

    def text(self, t: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
        v = t.get(key, "")
        if not isinstance(v, str) or (required and not v.strip()):
            raise self.fail(where, f"'{key}' expected a non-empty string, got {v!r}")
        return v.strip()

    def source(self, t: Mapping[str, Any], key: str, where: str) -> str:
        v = self.text(t, key, where)
        if not (is_source(v) or _NCT.match(v)):
            raise self.fail(where, f"'{key}' expected a PMID/DOI/PMC/DailyMed or NCT id, got {v!r}")
        return v

    def flag(self, t: Mapping[str, Any], key: str, where: str) -> bool:
        v = t.get(key, True)
        if not isinstance(v, bool):
            raise self.fail(where, f"'{key}' expected true or false, got {v!r}")
        return v

    def choice(self, t: Mapping[str, Any], key: str, where: str, options: Any) -> str:
        """The text `key`, which must be one of `options`."""
        v = self.text(t, key, where)
        if v not in options:
            raise self.fail(where, f"'{key}' expected one of {', '.join(options)}, got {v!r}")
        return v

    def provenance(self, t: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The provenance fields every record carries: source, population, verified, note."""
        return {
            "source": self.source(t, "source", where),
            "population": self.text(t, "population", where),
            "verified": self.flag(t, "verified", where),
            "note": self.text(t, "note", where),
        }

    def tables(self, doc: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        v = doc.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.fail(f"[[{key}]]", f"expected tables, got {v!r}")
        return v


def read_toxicity(text: str, origin: str) -> ToxicityData:
    """Parse and validate the toxicity document `text` (`origin` names it in messages)."""
    doc = parse_toml(text, origin)
    r = _Reader(origin)
    grades: dict[str, GradeScale] = {}
    for i, t in enumerate(r.tables(doc, "grade_scale")):
        w = f"[[grade_scale]] {i + 1}"
        g = GradeScale(
            measure=r.text(t, "measure", w),
            unit=r.text(t, "unit", w),
            grade2_below=r.num(t, "grade2_below", w),
            grade3_below=r.num(t, "grade3_below", w),
            grade4_below=r.num(t, "grade4_below", w),
            source=r.source(t, "source", w),
            verified=r.flag(t, "verified", w),
            note=r.text(t, "note", w),
        )
        if not g.grade2_below > g.grade3_below > g.grade4_below:
            raise r.fail(w, "expected grade2_below > grade3_below > grade4_below")
        grades[g.measure] = g
    systems: dict[str, SystemParameters] = {}
    for i, t in enumerate(r.tables(doc, "system")):
        w = f"[[system]] {i + 1}"
        s = SystemParameters(
            lineage=r.text(t, "lineage", w),
            mtt_h=r.num(t, "mtt_h", w, 1e-6),
            gamma=r.num(t, "gamma", w),
            baseline=r.num(t, "baseline", w, 1e-9),
            **r.provenance(t, w),
            iiv_baseline_var=r.num(t, "iiv_baseline_var", w) if "iiv_baseline_var" in t else 0.0,
            iiv_slope_var=r.num(t, "iiv_slope_var", w) if "iiv_slope_var" in t else 0.0,
        )
        systems[s.lineage] = s
    effects: list[DrugEffect] = []
    for i, t in enumerate(r.tables(doc, "myelosuppression")):
        w = f"[[myelosuppression]] {i + 1} ({t.get('drug')!r})"
        basis = r.choice(t, "basis", w, BASES)
        lineage = r.choice(t, "lineage", w, systems)
        effect = r.text(t, "effect", w)
        if effect != "linear":
            raise r.fail(w, f"'effect' expected 'linear', got {effect!r}")
        deriv = t.get("derivation", {})
        if not isinstance(deriv, dict):
            raise r.fail(w, f"'derivation' expected a table, got {deriv!r}")
        effects.append(
            DrugEffect(
                drug=r.text(t, "drug", w),
                lineage=lineage,
                basis=basis,
                effect=effect,
                slope=r.num(t, "slope", w),
                **r.provenance(t, w),
                derivation=dict(deriv),
            )
        )
    incid: list[Incidence] = []
    inc_lines = _header_lines(text, "incidence")
    for i, t in enumerate(r.tables(doc, "incidence")):
        at = f", line {inc_lines[i]}" if i < len(inc_lines) else ""
        w = f"[[incidence]] {i + 1} ({t.get('drug')!r}{at})"
        p = r.num(t, "incidence", w)
        if p > 1:
            raise r.fail(w, f"'incidence' expected a fraction 0-1, got {p!r}")
        incid.append(
            Incidence(
                drug=r.text(t, "drug", w),
                toxicity=r.text(t, "toxicity", w),
                grade=int(r.num(t, "grade", w, 1)),
                basis=r.text(t, "basis", w),
                dose_mg=r.num(t, "dose_mg", w),
                schedule=r.text(t, "schedule", w),
                incidence=p,
                **r.provenance(t, w),
                dose_unit=r.text(t, "dose_unit", w) if "dose_unit" in t else "mg",
                incidence_range=_incidence_range(r, t, w, p),
            )
        )
    neuro: dict[str, NeuropathyModel] = {}
    for i, t in enumerate(r.tables(doc, "neuropathy")):
        w = f"[[neuropathy]] {i + 1} ({t.get('drug')!r})"
        onset = {
            k[len("onset_") :]: r.num(t, k, w, 1e-9) for k in sorted(t) if k.startswith("onset_")
        }
        if not onset:
            raise r.fail(w, "expected at least one 'onset_<route>' value")
        reported = {k: float(v) for k, v in t.items() if k.startswith("moreau_") and _isnum(v)}
        n = NeuropathyModel(
            drug=r.text(t, "drug", w),
            basis=r.text(t, "basis", w),
            dose_unit=r.text(t, "dose_unit", w),
            onset=onset,
            **r.provenance(t, w),
            reported=reported,
            calibration_dose=(
                r.num(t, "calibration_dose", w, 1e-9) if "calibration_dose" in t else None
            ),
            calibration_route=str(t.get("calibration_route", "iv")),
            median_onset_among_affected=(
                r.num(t, "median_onset_among_affected", w, 1e-9)
                if "median_onset_among_affected" in t
                else None
            ),
            calibration_path=(
                (
                    int(r.num(t, "calibration_cycles", w, 1)),
                    r.num(t, "calibration_cycle_dose", w, 1e-9),
                    r.num(t, "calibration_reduced_cycle_dose", w),
                )
                if "calibration_cycles" in t
                else None
            ),
        )
        neuro[n.drug] = n
    ntime: dict[str, NeuropathyTimeModel] = {}
    for i, t in enumerate(r.tables(doc, "neuropathy_time")):
        w = f"[[neuropathy_time]] {i + 1} ({t.get('drug')!r})"
        pts = []
        for j in (1, 2):
            months = r.num(t, f"months_{j}", w, 1e-9)
            inc = r.num(t, f"incidence_{j}", w, 1e-9)
            if inc >= 1:
                raise r.fail(w, f"'incidence_{j}' expected a fraction below 1, got {inc!r}")
            pts.append((months, inc))
        if not (pts[0][0] < pts[1][0] and pts[0][1] < pts[1][1]):
            raise r.fail(w, "expected months_1 < months_2 and incidence_1 < incidence_2")
        ntime[r.text(t, "drug", w)] = NeuropathyTimeModel(
            drug=r.text(t, "drug", w),
            basis=r.text(t, "basis", w),
            points=(pts[0], pts[1]),
            **r.provenance(t, w),
        )
    renal: dict[str, RenalModel] = {}
    raw_renal = doc.get("renal", {})
    if not isinstance(raw_renal, dict):
        raise r.fail("[renal]", f"expected tables per drug, got {raw_renal!r}")
    for drug, t in raw_renal.items():
        w = f"[renal.{drug}]"
        if not isinstance(t, dict):
            raise r.fail(w, f"expected a table, got {t!r}")
        frac = r.num(t, "fraction_renal", w)
        if frac > 1:
            raise r.fail(w, f"'fraction_renal' expected a fraction 0-1, got {frac!r}")
        tiers = []
        for j, tt in enumerate(t.get("tier", [])):
            tw = f"{w} tier {j + 1}"
            tiers.append(
                RenalTier(
                    label=r.text(tt, "label", tw),
                    crcl_min=r.num(tt, "crcl_min", tw),
                    dose_mg=r.num(tt, "dose_mg", tw, 1e-9),
                    every_days=int(r.num(tt, "every_days", tw, 1)),
                    dialysis=bool(tt.get("dialysis", False)),
                )
            )
        lab = t.get("label", {})
        renal[drug] = RenalModel(
            drug=drug,
            fraction_renal=frac,
            crcl_reference=r.num(t, "crcl_reference", w, 1e-9),
            source=r.source(t, "source", w),
            verified=r.flag(t, "verified", w),
            note=r.text(t, "note", w),
            auc_increase_low=r.num(t, "auc_increase_low", w),
            auc_increase_high=r.num(t, "auc_increase_high", w),
            tiers=tuple(tiers),
            label_source=r.source(lab, "source", f"{w}.label"),
            label_verified=r.flag(lab, "verified", f"{w}.label"),
            label_note=r.text(lab, "note", f"{w}.label"),
        )
    psys, peff = _read_platelets(r, doc)
    return ToxicityData(
        platelet_system=psys,
        platelet_effects=peff,
        grades=grades,
        systems=systems,
        effects=tuple(effects),
        incidences=tuple(incid),
        neuropathy=neuro,
        renal=renal,
        neuropathy_time=ntime,
    )


_PLT_FORMS = ("concentration", "concentration_and_auc", "kpd")


def _read_platelets(
    r: _Reader, doc: Mapping[str, Any]
) -> tuple[PlateletSystem | None, tuple[PlateletEffect, ...]]:
    """The ``[platelet_system]`` table and the ``[[platelet_effect]]`` records."""
    t = doc.get("platelet_system")
    if t is None:
        return None, ()
    w = "[platelet_system]"
    if not isinstance(t, dict):
        raise r.fail(w, f"expected a table, got {t!r}")
    system = PlateletSystem(
        kprp_per_h=r.num(t, "kprp_per_h", w, 1e-9),
        kin_per_h=r.num(t, "kin_per_h", w, 1e-9),
        baseline=r.num(t, "baseline", w, 1e-9),
        baseline_covariate=r.num(t, "baseline_covariate", w),
        baseline_covariate_center=r.num(t, "baseline_covariate_center", w),
        baseline_prop_sd=r.num(t, "baseline_prop_sd", w),
        baseline_add_sd=r.num(t, "baseline_add_sd", w),
        **r.provenance(t, w),
    )
    effects = []
    for i, e in enumerate(r.tables(doc, "platelet_effect")):
        w = f"[[platelet_effect]] {i + 1} ({e.get('drug')!r})"
        form = r.choice(e, "form", w, _PLT_FORMS)
        basis = r.choice(e, "basis", w, BASES)
        deriv = e.get("derivation", {})
        if not isinstance(deriv, dict):
            raise r.fail(w, f"'derivation' expected a table, got {deriv!r}")
        effects.append(
            PlateletEffect(
                drug=r.text(e, "drug", w),
                basis=basis,
                form=form,
                slope=r.num(e, "slope", w, 1e-12),
                **r.provenance(e, w),
                auc_scale_per_h=r.num(e, "auc_scale_per_h", w) if form.endswith("auc") else 0.0,
                kpd_rate_per_h=r.num(e, "kpd_rate_per_h", w, 1e-12) if form == "kpd" else 0.0,
                derivation=deriv,
            )
        )
    return system, tuple(effects)


def _incidence_range(
    r: _Reader, t: Mapping[str, Any], where: str, p: float
) -> tuple[float, float] | None:
    """The optional ``incidence_low``/``incidence_high`` pair (both or neither, around `p`)."""
    if "incidence_low" not in t and "incidence_high" not in t:
        return None
    lo, hi = r.num(t, "incidence_low", where), r.num(t, "incidence_high", where)
    if not lo <= p <= hi <= 1:
        raise r.fail(
            where,
            "expected incidence_low <= incidence <= incidence_high <= 1, got "
            f"{lo!r}, {p!r}, {hi!r}",
        )
    return (lo, hi)


def _header_lines(text: str, key: str) -> list[int]:
    """1-based line numbers of the ``[[key]]`` table headers of `text`, in order."""
    pat = re.compile(r"^\s*\[\[\s*" + re.escape(key) + r"\s*\]\]")
    return [n for n, line in enumerate(text.splitlines(), 1) if pat.match(line)]


def _isnum(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@functools.cache
def toxicity_data() -> ToxicityData:
    """The bundled ``structures/toxicity.toml`` (read once per process)."""
    res = data_file("structures", "toxicity.toml")
    return read_toxicity(res.read_text(encoding="utf-8"), "structures/toxicity.toml")
