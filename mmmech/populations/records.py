"""Records of a virtual population (the parsed file) and of one sampled patient."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import regimens as _regimens
from .._readonly import ReadOnlyDict

__all__ = [
    "Provenance",
    "Distribution",
    "Member",
    "Group",
    "Feature",
    "Isotypes",
    "BodySpec",
    "TumourSpec",
    "TUMOUR_SCALES",
    "Eligibility",
    "UNCHECKED",
    "Population",
    "Health",
    "Patient",
    "FRAILTY",
]

#: IMWG frailty categories (Palumbo et al., Blood 2015, PMID:25628469: additive score 0-5 of
#: age, comorbidities, ADL and IADL; fit = 0, intermediate fitness = 1, frail >= 2)
FRAILTY = ("fit", "intermediate", "frail")
#: per-patient tumour-kinetics multipliers (``[tumour.NAME]`` of a population or patient file):
#: ``growth`` multiplies the net untreated growth rate, ``sensitivity`` the drug-induced part of
#: the net rate (docs/dynamics.md, "Between-patient tumour kinetics")
TUMOUR_SCALES = ("growth", "sensitivity")


@dataclass(frozen=True)
class Provenance:
    """Where a number comes from: source identifiers, or a reference read without its identifier
    (``verified = False``), or a modelling choice explained in `note`."""

    sources: tuple[str, ...] = ()
    verified: bool = True
    reference: str = ""
    modelling_choice: bool = False
    note: str = ""


@dataclass(frozen=True)
class Distribution:
    """One continuous property: ``fixed`` (value), ``normal`` (mean, sd), ``lognormal`` (median,
    cv), ``uniform`` (low, high) or ``bands`` (``[low, high, probability]`` rows, uniform within
    a band); `low`/`high` bound normal and lognormal draws: ``bounds = "truncate"`` (default:
    the exact truncated distribution) or ``"clip"`` (values beyond a bound are set to it, so the
    median and the quantiles inside the bounds stay those of the declared distribution)."""

    kind: str
    value: float = 0.0
    mean: float = 0.0
    sd: float = 0.0
    median: float = 0.0
    cv: float = 0.0
    low: float | None = None
    high: float | None = None
    bands: tuple[tuple[float, float, float], ...] = ()
    unit: str = ""
    provenance: Provenance = field(default_factory=Provenance)
    bounds: str = "truncate"


@dataclass(frozen=True)
class Member:
    """One member of an exclusive group: a patient has it with `probability`."""

    name: str
    contexts: tuple[str, ...]
    probability: float
    low: float | None = None
    high: float | None = None
    provenance: Provenance = field(default_factory=Provenance)


@dataclass(frozen=True)
class Group:
    """Mutually exclusive members (at most one per patient; none with 1 - sum)."""

    name: str
    description: str
    members: tuple[Member, ...]
    total: float | None = None
    provenance: Provenance = field(default_factory=Provenance)


@dataclass(frozen=True)
class Feature:
    """A property a patient has with `probability`, independently of the others, or jointly
    with an earlier feature `joint_with`: `joint_probability` is then the share of patients
    with both (the marginal `probability` is kept; ``[feature.joint]`` of a population file)."""

    name: str
    contexts: tuple[str, ...]
    probability: float
    low: float | None = None
    high: float | None = None
    provenance: Provenance = field(default_factory=Provenance)
    joint_with: str | None = None
    joint_probability: float | None = None
    joint_provenance: Provenance | None = None
    #: the partner's probability where the joint share was declared: conditionals use it, so
    #: a subgroup that forces the partner on every patient keeps ``P(self | partner)``
    partner_probability: float = 0.0


@dataclass(frozen=True)
class Isotypes:
    """Shares of the M-protein isotypes (sum to 1)."""

    shares: Mapping[str, float]
    provenance: Provenance = field(default_factory=Provenance)


@dataclass(frozen=True)
class BodySpec:
    """Weight and height (correlated: `correlation` between log weight and height) and the BSA
    formula (``mosteller`` or ``dubois``)."""

    weight: Distribution
    height: Distribution
    correlation: float = 0.0
    bsa_formula: str = "mosteller"
    correlation_note: str = ""


@dataclass(frozen=True)
class TumourSpec:
    """Between-patient multipliers of the tumour kinetics (the ``[tumour]`` table): ``growth``
    and ``sensitivity`` (lognormal or fixed; None: 1 for every patient) and the `correlation`
    between their logarithms."""

    growth: Distribution | None = None
    sensitivity: Distribution | None = None
    correlation: float = 0.0
    correlation_note: str = ""


#: a ``[eligibility.measurable]`` value for an isotype whose measurable disease the model cannot
#: check (light-chain disease: urine M-protein or serum free light chains, which the model does
#: not carry): its patients are enrolled without a check, and the enrolment says so
UNCHECKED = "unchecked"


@dataclass(frozen=True)
class Eligibility:
    """Who a trial enrols from a population (the ``[eligibility]`` table of a population file
    or a trial's table in ``trials/enrolment.toml``; docs/populations.md, *Eligibility*).

    Attributes
    ----------
    measurable : mapping
        Isotype -> the smallest baseline serum M-protein (g/dL) that counts as measurable
        disease, or :data:`UNCHECKED` (enrolled without a check: the criterion is one the
        model cannot evaluate). An isotype missing here is not enrolled (no measurable
        disease the model can follow). Empty: every patient with M-protein > 0 (the rule
        before eligibility existed).
    exclude : tuple of str
        Features (group members or features of the population) a patient must not have.
    require : tuple of str
        Features a patient must have (all of them).
    origin : str
        Where the criteria were read (file, and the trial id for a trial's table).
    """

    measurable: Mapping[str, float | str] = field(default_factory=lambda: ReadOnlyDict({}))
    exclude: tuple[str, ...] = ()
    require: tuple[str, ...] = ()
    provenance: Provenance = field(default_factory=Provenance)
    origin: str = ""

    def reason(self, patient: Patient) -> str | None:
        """Why `patient` is not eligible (one short phrase), or None when eligible."""
        if not self.measurable:
            if not patient.m_protein_g_dL > 0:
                return f"no measurable M-protein ({patient.isotype})"
        else:
            rule = self.measurable.get(patient.isotype)
            if rule is None:
                return f"isotype {patient.isotype} not measurable"
            if rule != UNCHECKED and not patient.m_protein_g_dL >= float(rule):
                return f"{patient.isotype} serum M-protein below {float(rule):g} g/dL"
        for f in self.exclude:
            if f in patient.features:
                return f"excluded: {f}"
        for f in self.require:
            if f not in patient.features:
                return f"required: {f}"
        return None

    def unchecked(self, patient: Patient) -> bool:
        """True when `patient` is enrolled on a criterion the model cannot check."""
        return self.measurable.get(patient.isotype) == UNCHECKED

    def merged(self, other: Eligibility) -> Eligibility:
        """These criteria and `other`'s: `other`'s measurable thresholds replace these where
        it gives any; exclusions and requirements add up."""
        return Eligibility(
            measurable=other.measurable if other.measurable else self.measurable,
            exclude=self.exclude + tuple(f for f in other.exclude if f not in self.exclude),
            require=self.require + tuple(f for f in other.require if f not in self.require),
            provenance=other.provenance,
            origin=f"{self.origin} + {other.origin}" if self.origin else other.origin,
        )


@dataclass(frozen=True)
class Population:
    """A virtual population read from a ``populations/*.toml`` file (see docs/populations.md)."""

    name: str
    description: str
    setting: str
    note: str
    groups: tuple[Group, ...]
    features: tuple[Feature, ...]
    isotype: Isotypes
    m_protein: Distribution
    age: Distribution
    body: BodySpec
    crcl: Distribution
    levels: Mapping[str, Distribution] = field(default_factory=lambda: ReadOnlyDict({}))
    origin: str = ""
    tumour: TumourSpec = field(default_factory=TumourSpec)
    #: baseline laboratory values (``[labs.platelets]``, ``[labs.anc]``), drawn into the
    #: patient's :class:`Health` from their own sub-stream
    labs: Mapping[str, Distribution] = field(default_factory=lambda: ReadOnlyDict({}))
    #: who a trial enrols (``[eligibility]``); None: every patient with M-protein > 0
    eligibility: Eligibility | None = None
    #: acquired-resistance rate lambda per day (``[resistance]``, lognormal or fixed); None:
    #: no resistance onset (docs/populations.md, "Acquired resistance")
    resistance: Distribution | None = None
    #: enrolled shares that replace declared prevalences ({feature: share}, set by
    #: :func:`mmmech.populations.with_mix`): applied per patient from the named sub-stream
    #: ``mix/<feature>``, so every other draw of patient i stays the same
    mix: Mapping[str, float] = field(default_factory=lambda: ReadOnlyDict({}))

    def prevalences(self) -> dict[str, float]:
        """Declared probability of every group member and feature, by name."""
        out = {m.name: m.probability for g in self.groups for m in g.members}
        out.update({f.name: f.probability for f in self.features})
        return out

    def context_of(self) -> dict[str, tuple[str, ...]]:
        """The contexts each group member and feature adds to a patient, by name."""
        out = {m.name: m.contexts for g in self.groups for m in g.members}
        out.update({f.name: f.contexts for f in self.features})
        return out


@dataclass(frozen=True)
class Health:
    """A patient's health at the start (the ``[health]`` table of a patient file); every field
    is optional (None: not given). Read by the toxicity layer, not by the network.

    Attributes
    ----------
    ecog : int or None
        ECOG performance status, 0 (fully active) to 4 (completely disabled).
    frailty : str or None
        IMWG frailty category, ``"fit"``, ``"intermediate"`` or ``"frail"`` (PMID:25628469).
    anc_10e9_L, platelets_10e9_L : float or None
        Absolute neutrophil and platelet counts (10^9/L).
    hemoglobin_g_dL : float or None
    neuropathy_grade : int or None
        Pre-existing peripheral neuropathy, CTCAE grade 0-4.
    """

    ecog: int | None = None
    frailty: str | None = None
    anc_10e9_L: float | None = None
    platelets_10e9_L: float | None = None
    hemoglobin_g_dL: float | None = None
    neuropathy_grade: int | None = None

    def to_dict(self) -> dict[str, float | int | str | None]:
        """The fields by name (None where not given)."""
        return {
            "ecog": self.ecog,
            "frailty": self.frailty,
            "anc_10e9_L": self.anc_10e9_L,
            "platelets_10e9_L": self.platelets_10e9_L,
            "hemoglobin_g_dL": self.hemoglobin_g_dL,
            "neuropathy_grade": self.neuropathy_grade,
        }


@dataclass(frozen=True)
class Patient:
    """One virtual patient.

    Attributes
    ----------
    id : str
        ``"<population>-s<seed>-<index>"``: the same patient in every arm and every run.
    index : int
        Position in the population's patient sequence (0-based).
    contexts : tuple of str
        Bundled patient contexts to apply in this order (after a cellular one such as marrow).
    features : tuple of str
        Every sampled group member and feature, with or without a context (``hyperdiploid``,
        ``lenalidomide_refractory``, ...).
    levels : mapping
        Multipliers on model input levels sampled for this patient (empty when the population
        declares none).
    body : mapping
        ``weight_kg``, ``height_cm``, ``bsa_m2``, ``crcl_ml_min``.
    isotype : str
        ``IgG``, ``IgA``, ``light_chain``, ``nonsecretory`` or ``other``.
    m_protein_g_dL : float
        Baseline serum M-protein (0 for nonsecretory disease).
    age : float
        Years.
    notes : tuple of str
        Caveats that apply to this patient.
    name, description : str
        A patient file's name and description (empty for a sampled patient).
    health : Health
        Performance status, frailty, blood counts, neuropathy (a patient file's ``[health]``;
        all None for a sampled patient).
    origin : str
        The patient file read (empty for a sampled patient).
    tumour : mapping
        Tumour-kinetics multipliers ``growth`` and ``sensitivity`` (:data:`TUMOUR_SCALES`;
        empty or a missing key: 1, the typical patient).
    """

    id: str
    index: int
    contexts: tuple[str, ...]
    features: tuple[str, ...]
    levels: Mapping[str, float]
    body: Mapping[str, float]
    isotype: str
    m_protein_g_dL: float
    age: float
    notes: tuple[str, ...] = ()
    name: str = ""
    description: str = ""
    health: Health = field(default_factory=Health)
    origin: str = ""
    tumour: Mapping[str, float] = field(default_factory=lambda: ReadOnlyDict({}))
    #: acquired-resistance rate lambda (per day): the drug-induced part of the net tumour rate
    #: decays as exp(-lambda t) (:func:`mmmech.dynamics.resistance.apply_resistance`); 0: none
    resistance_per_day: float = 0.0

    def tumour_scale(self, name: str) -> float:
        """The patient's tumour-kinetics multiplier `name` (``growth`` or ``sensitivity``;
        1 when not drawn or not given)."""
        return float(self.tumour.get(name, 1.0))

    def regimen_body(self) -> _regimens.Body:
        """The patient's weight and BSA as a :class:`mmmech.regimens.Body` for dosing."""
        return _regimens.Body(weight_kg=self.body["weight_kg"], bsa_m2=self.body["bsa_m2"])

    def covariates(self) -> dict[str, float]:
        """PK covariates known for this patient: ``weight_kg``, ``bsa_m2``, ``crcl_ml_min``,
        ``age_years`` and :meth:`isotype_covariates` (a PK model uses those it has covariate
        effects for)."""
        out = {k: float(self.body[k]) for k in ("weight_kg", "bsa_m2", "crcl_ml_min")}
        out["age_years"] = float(self.age)
        out.update(self.isotype_covariates())
        return out

    def isotype_covariates(self) -> dict[str, float]:
        """``non_igg_myeloma``: 0 for IgG myeloma, 1 for any other isotype (isatuximab's
        clearance covariate, Fau 2020: IgG M-protein competes with the antibody for FcRn
        salvage); empty when the isotype is not known."""
        if not self.isotype:
            return {}
        return {"non_igg_myeloma": 0.0 if self.isotype == "IgG" else 1.0}

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (``"patient"`` of ``regimen simulate --json``)."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "contexts": list(self.contexts),
            "features": list(self.features),
            "levels": dict(self.levels),
            "body": dict(self.body),
            "isotype": self.isotype,
            "m_protein_g_dL": self.m_protein_g_dL,
            "age": self.age,
            "health": self.health.to_dict(),
            "tumour": dict(self.tumour),
            "resistance_per_day": self.resistance_per_day,
            "notes": list(self.notes),
            "origin": self.origin,
        }
