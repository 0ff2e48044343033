"""The drug layer: a sourced myeloma drug library and structure-based inference.

Every drug knows its targets, what it does to each (the *action*), how potently (a
:class:`Potency` as published, converted to one number in nM for the model), and a reference
concentration (clinical Cmax where sourced, otherwise a documented in-vitro or nominal value).
Small molecules are RDKit molecules built from a curated SMILES; InChIKey, formula and
molecular weight are computed by RDKit, never typed. The curated data live in
``structures/drugs.toml`` (installed as package data); every number there carries a unit and a
PubMed ID or DOI, and ``verified = false`` marks numbers that could not be confirmed.

Actions
-------
``inhibit``
    Reversible inhibition of an enzyme or protein-protein interaction (potency: IC50/Ki).
``covalent_inhibit``
    Covalent (irreversible or slowly reversible) inhibition: carfilzomib on PSMB5 Thr1,
    selinexor on XPO1 Cys528. Occupancy accumulates with time beyond what IC50 suggests.
``antagonist``
    Receptor antagonism (blocks the endogenous agonist).
``agonist``
    Receptor agonism (dexamethasone and prednisolone on NR3C1).
``glue_degrade``
    Molecular glue: the drug binds an E3 ligase substrate receptor (``e3``, here CRBN) and
    makes it ubiquitinate ``neo_substrates`` (IKZF1, IKZF3, CSNK1A1, SALL4) for proteasomal
    degradation. The target is the E3 component; potency is its binding constant.
``bind_and_recruit_effectors``
    An antibody binds a surface antigen and recruits Fc effectors (NK-cell ADCC, macrophage
    ADCP, complement CDC); needs effectors in the context. The target's optional
    ``effectors`` (a subset of :data:`EFFECTORS`) says which of the three it recruits.
``activate_effectors``
    Direct activation of immune effector cells through the bound antigen (elotuzumab on NK
    SLAMF7).
``engage_T_cells``
    Bispecific T-cell engager: bridges CD3 on T cells to a tumour antigen; needs T cells.
``car_t_kill``
    Chimeric-antigen-receptor T cells kill antigen-positive cells; dosed in nominal
    occupancy-equivalents (``nM-eq``), see the library notes.
``deliver_payload``
    Antibody-drug conjugate: antigen binding, internalisation and release of a cytotoxic
    payload (belantamab mafodotin: MMAF).
``damage_DNA``
    DNA damage (alkylation, cross-links, intercalation); the target is the pseudo-node
    ``"DNA"`` and potency an in-vitro cytotoxic concentration.

Examples
--------
>>> from mmmech import drugs
>>> d = drugs.get("Velcade")
>>> d.name, d.drug_class, d.formula
('bortezomib', 'proteasome_inhibitor', 'C19H25BN4O4')
>>> [t.target for t in d.targets]
['PSMB5', 'PSMB6', 'PSMB7']
>>> drug, nM = drugs.parse_dose("bortezomib=10nM")
>>> nM
10.0
>>> drugs.from_smiles("CC(C)C[C@H](NC(=O)[C@@H](Cc1ccccc1)NC(=O)c1cnccn1)B(O)O").drug_class
'proteasome_inhibitor'
"""
import functools
import math
import re
from collections.abc import Mapping
import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType

from ..exceptions import (InvalidInputError, ModelFileError, UnitError, UnknownDrugError)
from ..units import MASS_UNITS, MOLAR_UNITS, parse_assignment, parse_concentration, to_nM
from ..sources import describe_expected, is_source
from ..utils import did_you_mean

__all__ = [
    "ACTIONS", "DRUG_TYPES", "DRUG_CLASSES", "POTENCY_UNITS", "CLASS_RULES",
    "Potency", "Reference", "TargetAction", "Drug",
    "library", "get", "names", "parse_dose", "dose_nM", "from_smiles", "standardize", "warheads",
    "read_library", "WARHEADS", "EFFECTORS",
]

ACTIONS = ("inhibit", "covalent_inhibit", "antagonist", "agonist", "glue_degrade",
           "bind_and_recruit_effectors", "activate_effectors", "engage_T_cells", "car_t_kill",
           "deliver_payload", "damage_DNA")
DRUG_TYPES = ("small_molecule", "antibody", "antibody_drug_conjugate", "bispecific_antibody",
              "cell_therapy")
DRUG_CLASSES = ("proteasome_inhibitor", "cereblon_modulator", "glucocorticoid",
                "anti_CD38_antibody", "anti_SLAMF7_antibody", "alkylator", "anthracycline",
                "HDAC_inhibitor", "XPO1_inhibitor", "BCL2_inhibitor", "anti_BCMA_ADC",
                "T_cell_engager", "CAR_T", "unknown")
EFFECTORS = ("ADCC", "CDC", "ADCP")
NOMINAL_UNIT = "nM-eq"
POTENCY_UNITS = tuple(MOLAR_UNITS) + tuple(MASS_UNITS) + (NOMINAL_UNIT,)


# Inference rules: (required warheads, class, [(target, action)], base confidence, rationale).
# A rule fires when all its warheads are present; see from_smiles() for how confidence combines
# with fingerprint similarity.
CLASS_RULES = (
    (("alpha_amido_boronic_acid",), "proteasome_inhibitor", (("PSMB5", "inhibit"),), 0.85,
     "peptide boronic acid: reversible covalent adduct with the beta5 Thr1"),
    (("epoxyketone",), "proteasome_inhibitor", (("PSMB5", "covalent_inhibit"),), 0.80,
     "alpha',beta'-epoxyketone: irreversible morpholino adduct with Thr1"),
    (("peptide_aldehyde",), "proteasome_inhibitor", (("PSMB5", "inhibit"),), 0.55,
     "peptide aldehyde: reversible hemiacetal with Thr1 (not proteasome-selective)"),
    (("boronic_acid",), "proteasome_inhibitor", (("PSMB5", "inhibit"),), 0.35,
     "boronic acid without a peptide: weak evidence on its own"),
    (("amino_glutarimide",), "cereblon_modulator", (("CRBN", "glue_degrade"),), 0.85,
     "3-(N-linked) glutarimide: IMiD/CELMoD cereblon binder"),
    (("glutarimide",), "cereblon_modulator", (("CRBN", "glue_degrade"),), 0.60,
     "glutarimide with free imide N-H: cereblon tri-Trp pocket binder"),
    (("hydroxamic_acid",), "HDAC_inhibitor",
     (("HDAC1", "inhibit"), ("HDAC2", "inhibit"), ("HDAC3", "inhibit"), ("HDAC6", "inhibit")),
     0.70, "hydroxamic acid: zinc-binding group of HDAC inhibitors"),
    (("nitrogen_mustard",), "alkylator", (("DNA", "damage_DNA"),), 0.85,
     "bis(2-haloethyl)amine: DNA cross-linker"),
    (("steroid_3_keto_delta4", "corticoid_side_chain"), "glucocorticoid",
     (("NR3C1", "agonist"),), 0.80, "3-keto-delta4 steroid with a corticoid side chain"),
    (("anthracycline_core",), "anthracycline", (("TOP2A", "inhibit"), ("DNA", "damage_DNA")),
     0.80, "anthraquinone tetracycle: intercalator / topoisomerase II poison"),
    (("acrylhydrazide_michael_acceptor",), "XPO1_inhibitor", (("XPO1", "covalent_inhibit"),),
     0.50, "acrylic hydrazide Michael acceptor (SINE): XPO1 Cys528"),
    (("bh3_mimetic_acylsulfonamide",), "BCL2_inhibitor", (("BCL2", "inhibit"),), 0.60,
     "nitro/triflyl aryl acyl-sulfonamide: BH3-mimetic core"),
)
# Classes whose mechanism needs a reactive/binding group: similarity without it counts half.
_WARHEAD_CLASSES = frozenset({"proteasome_inhibitor", "cereblon_modulator", "HDAC_inhibitor",
                              "alkylator", "glucocorticoid", "anthracycline"})
CALL_THRESHOLD = 0.5       # minimum confidence to name a class
SIMILARITY_CALL = 0.55     # minimum Tanimoto for a similarity-only call
N_NEAREST = 3


def __getattr__(name):
    if name == "WARHEADS":  # documented with the SMARTS in mmmech._chem (needs RDKit)
        from . import _chem
        return _chem.WARHEADS
    raise AttributeError(f"module 'mmmech.drugs' has no attribute {name!r}")


# ------------------------------------------------------------------------ records

@dataclass(frozen=True)
class Potency:
    """A potency as published.

    Attributes
    ----------
    value : float
        The number, in `unit`.
    unit : str
        Concentration unit (``nM``, ``uM``, ``ng/mL``, ...) or ``nM-eq`` (nominal).
    assay : str
        What was measured (IC50 of which activity, KD of which binding, ...).
    source : str
        ``"PMID:<digits>"`` or ``"DOI:10.<...>"``.
    low, high : float or None
        Recorded range in the same unit, when sources disagree or report a spread.
    note : str
        Context, caveats, where the number was read.
    verified : bool
        False when the number could not be confirmed in a source text.
    """
    value: float
    unit: str
    assay: str
    source: str
    low: float | None = None
    high: float | None = None
    note: str = ""
    verified: bool = True

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Reference:
    """A reference concentration: clinical Cmax where sourced, else in-vitro or nominal.

    ``kind`` says which (e.g. ``"Cmax, 1.3 mg/m2 IV bolus, first dose"``); the other fields
    are as in :class:`Potency`.
    """
    value: float
    unit: str
    kind: str
    source: str
    low: float | None = None
    high: float | None = None
    note: str = ""
    verified: bool = True

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TargetAction:
    """What a drug does to one target.

    Attributes
    ----------
    target : str
        HGNC symbol (``PSMB5``, ``CRBN``, ``CD38``, ``NR3C1``, ...) or ``"DNA"``.
    action : str
        One of :data:`ACTIONS`.
    potency_nM : float
        The single number the model uses for occupancy, in nM (nM-equivalents for CAR-T).
    potency : Potency
        What `potency_nM` was read from, as published.
    hill : float
        Hill coefficient for occupancy (1.0 unless sourced otherwise).
    e3 : str or None
        ``glue_degrade`` only: the E3 substrate receptor (``"CRBN"``).
    neo_substrates : tuple of str
        ``glue_degrade`` only: proteins degraded (``("IKZF1", "IKZF3", ...)``).
    confidence : float or None
        Inferred targets only (:func:`from_smiles`): confidence in [0, 1]; None for curated.
    effectors : tuple of str or None
        ``bind_and_recruit_effectors`` only: the Fc effector mechanisms the antibody recruits,
        a subset of :data:`EFFECTORS` (``"ADCC"``, ``"CDC"``, ``"ADCP"``); None = all three.
    effectors_sources : tuple of str
        PMID/DOI/PMC identifiers for `effectors` (empty when `effectors` is None).
    """
    target: str
    action: str
    potency_nM: float
    potency: Potency
    hill: float = 1.0
    e3: str | None = None
    neo_substrates: tuple = ()
    confidence: float | None = None
    effectors: tuple | None = None
    effectors_sources: tuple = ()

    def to_dict(self):
        d = {"target": self.target, "action": self.action, "potency_nM": self.potency_nM,
             "source": self.potency.source, "hill": self.hill, "verified": self.potency.verified,
             "potency": self.potency.to_dict()}
        if self.e3 is not None:
            d["e3"] = self.e3
            d["neo_substrates"] = list(self.neo_substrates)
        if self.confidence is not None:
            d["confidence"] = self.confidence
        if self.effectors is not None:
            d["effectors"] = list(self.effectors)
            d["effectors_sources"] = list(self.effectors_sources)
        return d


@dataclass(frozen=True)
class Drug:
    """One drug: identity, structure, targets with potencies, reference concentration.

    Attributes
    ----------
    name : str
        Canonical lower-case name.
    synonyms : tuple of str
        Brand names, codes and other names (lookup is case-insensitive).
    type : str
        One of :data:`DRUG_TYPES`.
    drug_class : str
        One of :data:`DRUG_CLASSES` (``"unknown"`` only for uninferable molecules).
    mechanism : str
        One-paragraph mechanism.
    smiles : str or None
        Curated SMILES (small molecules) or canonical SMILES of an inferred molecule.
    inchikey, formula : str or None
        Computed by RDKit from `smiles`.
    mol_weight : float or None
        g/mol, computed by RDKit for small molecules; Da for biologics (curated, with
        `mol_weight_source`); None for cell therapies.
    targets : tuple of TargetAction
    reference : Reference or None
        Reference concentration record (None for inferred molecules).
    reference_nM : float or None
        `reference` converted to nM (None for inferred molecules).
    sources : tuple of str
        Every PMID/DOI behind this entry.
    structure_source, structure_note : str
        Where the structure was read and how it was checked.
    structure_verified : bool
    mol_weight_source : str
        Biologics: where the molecular weight was read.
    inference : mapping or None
        :func:`from_smiles` only: ``{"warheads": [...], "nearest": [{"name", "similarity"}],
        "confidence": float, ...}``.
    """
    name: str
    synonyms: tuple
    type: str
    drug_class: str
    mechanism: str
    smiles: str | None
    inchikey: str | None
    formula: str | None
    mol_weight: float | None
    targets: tuple
    reference: Reference | None
    reference_nM: float | None
    sources: tuple = ()
    structure_source: str = ""
    structure_note: str = ""
    structure_verified: bool = False
    mol_weight_source: str = ""
    inference: Mapping | None = field(default=None, compare=False, hash=False)
    _mol_cache: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def mol(self):
        """The RDKit molecule (built on first use), or None for biologics."""
        if self.smiles is None:
            return None
        if "mol" not in self._mol_cache:
            from . import _chem
            self._mol_cache["mol"] = _chem.parse_smiles(self.smiles, "Drug.mol", "SMILES")
        return self._mol_cache["mol"]

    def descriptors(self):
        """Drug-likeness descriptors of the molecule (see :func:`mmmech._chem.descriptors`).

        Raises
        ------
        InvalidInputError
            For biologics and cell therapies, which have no small-molecule structure.
        """
        if self.smiles is None:
            raise InvalidInputError(
                f"Drug.descriptors(): {self.name!r} is a {self.type.replace('_', ' ')}, not a "
                f"small molecule; descriptors need a structure")
        from . import _chem
        return _chem.descriptors(self.mol)

    def to_dict(self):
        """JSON-able dict (keys of ``mmmech drugs show --json`` plus details)."""
        d = {
            "name": self.name,
            "type": self.type,
            "drug_class": self.drug_class,
            "smiles": self.smiles,
            "inchikey": self.inchikey,
            "formula": self.formula,
            "mol_weight": None if self.mol_weight is None else round(self.mol_weight, 3),
            "targets": [t.to_dict() for t in self.targets],
            "reference_nM": self.reference_nM,
            "synonyms": list(self.synonyms),
            "mechanism": self.mechanism,
            "reference": None if self.reference is None else self.reference.to_dict(),
            "sources": list(self.sources),
            "structure_source": self.structure_source,
            "structure_verified": self.structure_verified,
        }
        if self.mol_weight_source:
            d["mol_weight_source"] = self.mol_weight_source
        if self.inference is not None:
            d["inference"] = _plain(self.inference)
        return d


def _plain(obj):
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


# ---------------------------------------------------------------- reading the library

def _err(origin, where, msg):
    return ModelFileError(f"{origin}: {where}: {msg}")


def _number(x, origin, where, key):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise _err(origin, where, f"'{key}' must be a number, got {x!r}")
    x = float(x)
    if not math.isfinite(x) or x <= 0:
        raise _err(origin, where, f"'{key}' must be finite and > 0, got {x!r}")
    return x


def _text(d, key, origin, where, required=True, default=""):
    v = d.get(key, None)
    if v is None:
        if required:
            raise _err(origin, where, f"missing '{key}'")
        return default
    if not isinstance(v, str) or (required and not v.strip()):
        raise _err(origin, where, f"'{key}' must be a non-empty string, got {v!r}")
    return v.strip()


def _effectors(t, action, origin, where):
    """Read the optional ``effectors`` / ``effectors_sources`` / ``effectors_note`` keys of one
    library target; returns ``(tuple or None, tuple of sources)``."""
    keys = {"effectors", "effectors_sources", "effectors_note"} & set(t)
    if not keys:
        return None, ()
    if action != "bind_and_recruit_effectors":
        raise _err(origin, where, f"{sorted(keys)} belong to bind_and_recruit_effectors only, "
                                  f"got action {action!r}")
    eff = t.get("effectors")
    if not isinstance(eff, list) or not eff or not all(isinstance(e, str) for e in eff):
        raise _err(origin, where, f"'effectors' must be a non-empty list of "
                                  f"{', '.join(EFFECTORS)}, got {eff!r}")
    for e in eff:
        if e not in EFFECTORS:
            raise _err(origin, where, f"effector {e!r} is not one of {', '.join(EFFECTORS)}"
                                      f"{did_you_mean(e, EFFECTORS)}")
    if len(set(eff)) != len(eff):
        raise _err(origin, where, f"'effectors' lists an effector twice: {eff!r}")
    srcs = t.get("effectors_sources")
    if not isinstance(srcs, list) or not srcs:
        raise _err(origin, where, "'effectors' needs 'effectors_sources' (a non-empty list of "
                                  "source identifiers such as PMID:<digits>)")
    for s in srcs:
        if not is_source(s.strip() if isinstance(s, str) else s):
            raise _err(origin, where, f"effectors source {s!r}: {describe_expected()}")
    if "effectors_note" in t:
        _text(t, "effectors_note", origin, where)
    order = [e for e in EFFECTORS if e in eff]
    return tuple(order), tuple(s.strip() for s in srcs)


def _check_source(src, origin, where):
    if not is_source(src.strip() if isinstance(src, str) else src):
        raise _err(origin, where, f"{describe_expected()}, got {src!r}")
    return src.strip()


def _measure(d, origin, where, cls, label_key):
    """Build a Potency or Reference from its TOML table, checking unit and source."""
    if not isinstance(d, Mapping):
        raise _err(origin, where, f"expected a table, got {d!r:.60}")
    allowed = {"value", "unit", label_key, "source", "low", "high", "note", "verified"}
    extra = set(d) - allowed
    if extra:
        raise _err(origin, where, f"unknown key(s) {sorted(extra)}; allowed: {sorted(allowed)}")
    value = _number(d.get("value"), origin, where, "value") if "value" in d else None
    if value is None:
        raise _err(origin, where, "missing 'value'")
    unit = d.get("unit")
    if not unit:
        raise _err(origin, where, "missing 'unit' (every number needs one)")
    if unit not in POTENCY_UNITS:
        raise _err(origin, where, f"unknown unit {unit!r}; expected one of "
                                  f"{', '.join(POTENCY_UNITS)}")
    if "source" not in d:
        raise _err(origin, where, "missing 'source' (a source identifier such as PMID:<digits>)")
    source = _check_source(d["source"], origin, where)
    label = _text(d, label_key, origin, where)
    low = _number(d["low"], origin, where, "low") if "low" in d else None
    high = _number(d["high"], origin, where, "high") if "high" in d else None
    if low is not None and low > value * (1 + 1e-12):
        raise _err(origin, where, f"low ({low}) is above value ({value})")
    if high is not None and high < value * (1 - 1e-12):
        raise _err(origin, where, f"high ({high}) is below value ({value})")
    verified = d.get("verified", True)
    if not isinstance(verified, bool):
        raise _err(origin, where, f"'verified' must be true or false, got {verified!r}")
    note = d.get("note", "")
    if not isinstance(note, str):
        raise _err(origin, where, f"'note' must be a string, got {note!r:.40}")
    return cls(value, unit, label, source, low, high, note.strip(), verified)


def _to_nM(measure, mol_weight, origin, where):
    if measure.unit == NOMINAL_UNIT:
        return float(measure.value)
    try:
        return to_nM(measure.value, measure.unit, mol_weight, what=f"{origin}: {where}")
    except UnitError as exc:
        raise ModelFileError(str(exc)) from None


def _build_drug(d, origin, index):
    where0 = f"drug #{index + 1}"
    if not isinstance(d, Mapping):
        raise _err(origin, where0, "expected a [[drug]] table")
    name = _text(d, "name", origin, where0)
    where = f"drug {name!r}"
    if name != name.lower():
        raise _err(origin, where, "canonical names are lower-case")
    allowed = {"name", "synonyms", "type", "drug_class", "mechanism", "smiles",
               "structure_source", "structure_verified", "structure_note", "sources", "target",
               "reference", "mol_weight", "mol_weight_source", "mol_weight_verified"}
    extra = set(d) - allowed
    if extra:
        raise _err(origin, where, f"unknown key(s) {sorted(extra)}")
    dtype = _text(d, "type", origin, where)
    if dtype not in DRUG_TYPES:
        raise _err(origin, where, f"type {dtype!r} is not one of {', '.join(DRUG_TYPES)}")
    dclass = _text(d, "drug_class", origin, where)
    if dclass not in DRUG_CLASSES or dclass == "unknown":
        raise _err(origin, where, f"drug_class {dclass!r} is not one of "
                                  f"{', '.join(DRUG_CLASSES[:-1])}")
    synonyms = d.get("synonyms", [])
    if not isinstance(synonyms, list) or not all(isinstance(s, str) and s.strip()
                                                 for s in synonyms):
        raise _err(origin, where, "'synonyms' must be a list of non-empty strings")
    sources = d.get("sources", [])
    if not isinstance(sources, list):
        raise _err(origin, where, "'sources' must be a list")
    sources = [_check_source(s, origin, where) for s in sources]

    smiles, inchikey, formula, mw, mw_source = None, None, None, None, ""
    if dtype == "small_molecule":
        smiles = _text(d, "smiles", origin, where)
        if "mol_weight" in d:
            raise _err(origin, where, "small molecules must not type 'mol_weight': RDKit "
                                      "computes it from the SMILES")
        from . import _chem
        try:
            mol = _chem.parse_smiles(smiles, "read_library", f"SMILES of {name!r}")
        except InvalidInputError as exc:
            raise ModelFileError(f"{origin}: {exc}") from None
        inchikey, formula, mw = _chem.inchikey(mol), _chem.formula(mol), _chem.mol_weight(mol)
        _text(d, "structure_source", origin, where)
    else:
        if "smiles" in d:
            raise _err(origin, where, f"a {dtype} has no SMILES")
        if dtype != "cell_therapy":
            mw = _number(d.get("mol_weight"), origin, where, "mol_weight")
            mw_source = _text(d, "mol_weight_source", origin, where)
        elif "mol_weight" in d:
            raise _err(origin, where, "cell therapies have no molecular weight")

    targets = []
    raw_targets = d.get("target", [])
    if not isinstance(raw_targets, list) or not raw_targets:
        raise _err(origin, where, "needs at least one [[drug.target]]")
    for j, t in enumerate(raw_targets):
        tw = f"{where} target #{j + 1}"
        if not isinstance(t, Mapping):
            raise _err(origin, tw, "expected a table")
        extra = set(t) - {"target", "action", "potency", "hill", "e3", "neo_substrates",
                          "effectors", "effectors_sources", "effectors_note"}
        if extra:
            raise _err(origin, tw, f"unknown key(s) {sorted(extra)}")
        symbol = _text(t, "target", origin, tw)
        tw = f"{where} target {symbol!r}"
        action = _text(t, "action", origin, tw)
        if action not in ACTIONS:
            raise _err(origin, tw, f"action {action!r} is not one of {', '.join(ACTIONS)}")
        if "potency" not in t:
            raise _err(origin, tw, "missing 'potency'")
        pot = _measure(t["potency"], origin, f"{tw} potency", Potency, "assay")
        if pot.unit == NOMINAL_UNIT and action != "car_t_kill":
            raise _err(origin, tw, f"unit {NOMINAL_UNIT!r} is reserved for car_t_kill")
        hill = _number(t.get("hill", 1.0), origin, tw, "hill")
        e3 = t.get("e3")
        neo = t.get("neo_substrates", [])
        if action == "glue_degrade":
            if not e3 or not neo:
                raise _err(origin, tw, "glue_degrade needs 'e3' and 'neo_substrates'")
        elif e3 is not None or neo:
            raise _err(origin, tw, "'e3'/'neo_substrates' belong to glue_degrade only")
        effectors, eff_sources = _effectors(t, action, origin, tw)
        targets.append(TargetAction(symbol, action, _to_nM(pot, mw, origin, f"{tw} potency"),
                                    pot, hill, e3, tuple(neo), effectors=effectors,
                                    effectors_sources=eff_sources))
    if "reference" not in d:
        raise _err(origin, where, "missing [drug.reference]")
    ref = _measure(d["reference"], origin, f"{where} reference", Reference, "kind")
    ref_nM = _to_nM(ref, mw, origin, f"{where} reference")
    all_sources = list(dict.fromkeys(sources + [t.potency.source for t in targets]
                                     + [ref.source]))
    return Drug(
        name=name, synonyms=tuple(s.strip() for s in synonyms), type=dtype, drug_class=dclass,
        mechanism=_text(d, "mechanism", origin, where), smiles=smiles, inchikey=inchikey,
        formula=formula, mol_weight=mw, targets=tuple(targets), reference=ref,
        reference_nM=ref_nM, sources=tuple(all_sources),
        structure_source=d.get("structure_source", ""),
        structure_note=d.get("structure_note", ""),
        structure_verified=bool(d.get("structure_verified", False)),
        mol_weight_source=mw_source)


def read_library(text, origin="drugs.toml"):
    """Parse and validate a drug-library TOML document.

    Parameters
    ----------
    text : str
        TOML text in the format of ``structures/drugs.toml``.
    origin : str
        Names the document in error messages.

    Returns
    -------
    Mapping[str, Drug]
        Read-only, case-insensitive; synonyms resolve to their drug.

    Raises
    ------
    ModelFileError
        Invalid TOML, a missing unit or source, an unknown action, a duplicate name, an
        invalid SMILES, ... (the message names the drug and the field).
    """
    from ..resources import parse_toml
    data = parse_toml(text, origin)
    entries = data.get("drug")
    if not isinstance(entries, list) or not entries:
        raise ModelFileError(f"{origin}: no [[drug]] tables")
    drugs = [_build_drug(d, origin, i) for i, d in enumerate(entries)]
    return _Library(drugs, origin)


class _Library(Mapping):
    """Read-only, case-insensitive mapping name -> Drug; synonyms resolve; iterates names."""

    def __init__(self, drugs, origin="library"):
        self._drugs = {}
        self._alias = {}
        for drug in drugs:
            if drug.name in self._drugs:
                raise ModelFileError(f"{origin}: duplicate drug name {drug.name!r}")
            self._drugs[drug.name] = drug
        for drug in drugs:
            for alias in (drug.name, *drug.synonyms):
                key = alias.casefold()
                other = self._alias.get(key)
                if other is not None and other != drug.name:
                    raise ModelFileError(f"{origin}: name {alias!r} is used by both "
                                         f"{other!r} and {drug.name!r}")
                self._alias[key] = drug.name
        self._drugs = MappingProxyType(self._drugs)

    def _resolve(self, key):
        if not isinstance(key, str):
            return None
        return self._alias.get(" ".join(key.split()).casefold())

    def __getitem__(self, key):
        name = self._resolve(key)
        if name is None:
            raise UnknownDrugError(
                f"unknown drug {key!r}{did_you_mean(key, list(self._alias_display()))} "
                f"(see 'mmmech drugs list')")
        return self._drugs[name]

    def _alias_display(self):
        for drug in self._drugs.values():
            yield drug.name
            yield from drug.synonyms

    def __contains__(self, key):
        return self._resolve(key) is not None

    def __iter__(self):
        return iter(self._drugs)

    def __len__(self):
        return len(self._drugs)

    def __repr__(self):
        return f"<drug library: {len(self)} drugs>"


@functools.lru_cache(maxsize=1)
def library():
    """The bundled myeloma drug library (cached per process).

    Returns
    -------
    Mapping[str, Drug]
        Read-only and case-insensitive; synonyms (brand names, codes) resolve; iteration
        yields canonical names. Building it computes formulas and molecular weights with RDKit.
    """
    from ..resources import data_file
    res = data_file("structures", "drugs.toml")
    return read_library(res.read_text(encoding="utf-8"), "structures/drugs.toml")


def names():
    """Canonical names of the library drugs, in library order."""
    return list(library())


def get(name):
    """The library drug called `name` (case-insensitive; synonyms accepted).

    Raises
    ------
    UnknownDrugError
        With the closest known names.
    """
    if not isinstance(name, str) or not name.strip():
        raise UnknownDrugError(f"get(): expected a drug name, got {name!r}")
    return library()[name]


def _looks_numeric(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def parse_dose(text, what="dose"):
    """Parse ``'DRUG=AMOUNT'`` or ``'DRUG'`` into ``(Drug, concentration in nM)``.

    Without an amount the drug's reference concentration is used. Mass units (``ng/mL``,
    ``ug/mL``, ``mg/L`` ...) are converted with the drug's molecular weight. A bare number is
    an error, never a guess.

    Parameters
    ----------
    text : str
        ``'bortezomib=10nM'``, ``'daratumumab=400ug/mL'``, ``'lenalidomide'``.
    what : str
        Names the argument in error messages.

    Returns
    -------
    (Drug, float)
        The drug and its concentration in nM (nM-equivalents for CAR-T).

    Examples
    --------
    >>> parse_dose("bortezomib=1.5uM")[1]
    1500.0
    """
    name, amount = parse_assignment(text, what=what)
    if _looks_numeric(name):
        raise UnitError(f"{what}: {text!r} is a bare number; write DRUG=AMOUNT with a unit, "
                        f"e.g. 'bortezomib={name}nM'")
    drug = get(name)
    if amount is None:
        if drug.reference_nM is None:
            raise InvalidInputError(f"{what}: {drug.name!r} has no reference concentration; "
                                    f"give one, e.g. '{drug.name}=10nM'")
        return drug, float(drug.reference_nM)
    return drug, dose_nM(drug, amount, what=f"{what} of {drug.name!r}")


def dose_nM(drug, amount, what="dose"):
    """One amount of a known drug in nM: ``'10nM'``, ``'400ug/mL'`` (mass units with the
    drug's molecular weight) or, for cell therapies only, ``'9nM-eq'`` (nominal
    occupancy-equivalents). A bare number or an unknown unit is an error naming `what`.

    Examples
    --------
    >>> dose_nM(get("bortezomib"), "1.5uM")
    1500.0
    """
    if not isinstance(amount, str):
        raise InvalidInputError(f"{what}: an amount must be text with a unit such as '10nM', got "
                                f"{type(amount).__name__} {amount!r:.40}")
    compact = amount.replace(" ", "")
    if compact.endswith(NOMINAL_UNIT):
        if drug.type != "cell_therapy":
            raise UnitError(f"{what}: the unit {NOMINAL_UNIT!r} is reserved for cell therapies; "
                            f"use a concentration such as '10nM'")
        return parse_concentration(compact[: -len(NOMINAL_UNIT)] + "nM", what=what)
    if drug.type == "cell_therapy":
        # still reject bare numbers and unknown units with the usual messages first
        parse_concentration(amount, mol_weight=1.0, what=what)
        raise UnitError(f"{what}: {drug.name!r} is a cell therapy, dosed in nominal "
                        f"occupancy-equivalents; write e.g. '{drug.name}=9{NOMINAL_UNIT}' "
                        f"(reference {drug.reference_nM:g} {NOMINAL_UNIT})")
    return parse_concentration(amount, mol_weight=drug.mol_weight, what=what)


# ------------------------------------------------------------------- inference

def standardize(smiles):
    """Parse and standardise a SMILES into an RDKit Mol (see :func:`mmmech._chem.standardize`).

    Raises
    ------
    InvalidInputError
        Empty input, invalid SMILES, no organic component, several comparable components.
    """
    from . import _chem
    return _chem.standardize(smiles, "standardize", "SMILES")


def warheads(mol):
    """Names of the mechanism-defining features in `mol` (SMARTS in :mod:`mmmech._chem`)."""
    from . import _chem
    if isinstance(mol, str):
        mol = _chem.standardize(mol, "warheads", "SMILES")
    return _chem.warheads(mol)


@functools.lru_cache(maxsize=1)
def _library_fingerprints():
    from . import _chem
    out = []
    for drug in library().values():
        if drug.smiles is not None:
            std = _chem.standardize(drug.smiles, "library", f"SMILES of {drug.name!r}")
            out.append((drug, _chem.fingerprint(std), _chem.inchikey(std)))
    return tuple(out)


def _analog_potency(cls_drugs, target, action, sims):
    """Potency for an inferred target, borrowed from the most similar library drug of the class."""
    best = None
    for drug in cls_drugs:
        for t in drug.targets:
            if t.target == target:
                s = sims[drug.name]
                if best is None or s > best[0] or (s == best[0] and t.action == action):
                    best = (s, drug, t)
    if best is None:  # pragma: no cover - every rule's targets exist in the library
        raise RuntimeError(f"no library potency for {target}")
    s, drug, t = best
    pot = Potency(value=t.potency.value, unit=t.potency.unit,
                  assay=f"by analogy to {drug.name} (Tanimoto {s:.2f}); not measured for this "
                        f"molecule", source=t.potency.source, low=t.potency.low,
                  high=t.potency.high,
                  note=f"Inferred: copied from {drug.name} {t.target} ({t.potency.assay}).",
                  verified=False)
    return pot, t


def from_smiles(smiles, name=None):
    """Infer class and likely targets of a molecule from its structure.

    Evidence: mechanism-defining warheads (SMARTS, see :data:`CLASS_RULES`) and Morgan
    fingerprint (radius 2, 2048 bits) Tanimoto similarity to the library's small molecules.

    * A warhead rule with base confidence ``w`` and a best same-class neighbour at similarity
      ``s`` gives ``confidence = w + (1 - w) * s``.
    * Without a warhead, the nearest neighbour's class is proposed with ``confidence = s``
      (``s >= 0.55``), halved for classes whose mechanism needs a warhead.
    * Below 0.5 the class is ``"unknown"`` and no target is proposed: the function says it
      does not know rather than guessing.

    Inferred targets carry potencies copied from the most similar library drug of the class,
    marked ``verified=False`` with an ``assay`` saying so; the returned drug has no reference
    concentration.

    Parameters
    ----------
    smiles : str
        One molecule (salts/solvents are stripped).
    name : str, optional
        A name for the molecule (default ``"query"``).

    Returns
    -------
    Drug
        With ``.inference = {"warheads", "nearest", "confidence", "rule", "library_match",
        "same_connectivity", "alternatives"}``: ``library_match`` names a library drug with the
        same InChIKey, ``same_connectivity`` one with the same skeleton (first InChIKey block;
        stereoisomers and tautomers share it).

    Raises
    ------
    InvalidInputError
        Empty or invalid SMILES, or multi-component input.
    """
    from . import _chem
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InvalidInputError(f"from_smiles(): name must be a non-empty string, got {name!r}")
    mol = _chem.standardize(smiles, "from_smiles", "SMILES")
    found = _chem.warheads(mol)
    fp = _chem.fingerprint(mol)
    key = _chem.inchikey(mol)
    lib = _library_fingerprints()
    sims_list = _chem.tanimoto(fp, [f for _, f, _ in lib])
    sims = {drug.name: round(float(s), 4) for (drug, _, _), s in zip(lib, sims_list)}
    ranked = sorted(((s, drug) for (drug, _, _), s in zip(lib, sims_list)),
                    key=lambda x: (-x[0], x[1].name))
    nearest = [{"name": d.name, "similarity": round(float(s), 3), "drug_class": d.drug_class}
               for s, d in ranked[:N_NEAREST]]
    match = next((d.name for d, _, k in lib if k == key), None)
    skeleton = next((d.name for d, _, k in lib if k[:14] == key[:14]), None)

    def best_sim(cls):
        return max((s for s, d in ranked if d.drug_class == cls), default=0.0)

    candidates = []  # (confidence, class, targets, rationale)
    for needed, cls, tlist, base, why in CLASS_RULES:
        if all(w in found for w in needed):
            s = best_sim(cls)
            candidates.append((base + (1.0 - base) * s, cls, tlist, f"warhead: {why}"))
    if ranked:
        s, d = ranked[0]
        if s >= SIMILARITY_CALL:
            conf = s * (0.5 if d.drug_class in _WARHEAD_CLASSES else 1.0)
            tlist = tuple((t.target, t.action) for t in d.targets)
            candidates.append((conf, d.drug_class, tlist,
                               f"fingerprint similarity {s:.2f} to {d.name}"))
    # one entry per class: keep the strongest evidence
    by_class = {}
    for c in candidates:
        if c[1] not in by_class or c[0] > by_class[c[1]][0]:
            by_class[c[1]] = c
    ordered = sorted(by_class.values(), key=lambda c: (-c[0], c[1]))
    top = ordered[0] if ordered else None
    confidence = round(float(top[0]), 3) if top else 0.0
    targets = []
    if top is not None and top[0] >= CALL_THRESHOLD:
        drug_class, rule = top[1], top[3]
        cls_drugs = [d for d in library().values() if d.drug_class == drug_class]
        for target, action in top[2]:
            pot, lib_t = _analog_potency(cls_drugs, target, action, sims)
            targets.append(TargetAction(
                target=target, action=action, potency_nM=lib_t.potency_nM, potency=pot,
                hill=lib_t.hill, e3=lib_t.e3 if action == "glue_degrade" else None,
                neo_substrates=lib_t.neo_substrates if action == "glue_degrade" else (),
                confidence=confidence))
        mechanism = (f"Inferred {drug_class.replace('_', ' ')} ({rule}; confidence "
                     f"{confidence:.2f}).")
    else:
        drug_class, rule = "unknown", None
        mechanism = ("No mechanism-defining warhead and no close library neighbour: class "
                     "unknown (nothing supports a call).")
    alternatives = [{"drug_class": c[1], "confidence": round(float(c[0]), 3), "evidence": c[3]}
                    for c in ordered[1:]]
    inference = MappingProxyType({
        "warheads": tuple(found),
        "nearest": tuple(MappingProxyType(n) for n in nearest),
        "confidence": confidence,
        "rule": rule,
        "library_match": match,
        "same_connectivity": skeleton,
        "alternatives": tuple(MappingProxyType(a) for a in alternatives),
    })
    return Drug(
        name=(name.strip() if name else "query"), synonyms=(), type="small_molecule",
        drug_class=drug_class, mechanism=mechanism, smiles=_chem.canonical_smiles(mol),
        inchikey=key, formula=_chem.formula(mol), mol_weight=_chem.mol_weight(mol),
        targets=tuple(targets), reference=None, reference_nM=None,
        sources=tuple(dict.fromkeys(t.potency.source for t in targets)),
        structure_source="user input (standardised by RDKit)", structure_verified=False,
        inference=inference)
