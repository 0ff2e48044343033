"""Drug records: a drug, what it does to each target, its potencies and reference concentration.

Every drug knows its targets, what it does to each (the *action*), how potently (a
:class:`Potency` as published, the biochemical value, and where one was measured a
:class:`CellularPotency` in myeloma cells beside it; the model uses the cellular value when
present, converted to one number in nM), its plasma fraction unbound (:class:`FractionUnbound`,
small molecules) and a reference concentration (a clinical exposure with its dose where sourced,
otherwise a documented nominal value). Concentrations are total plasma-equivalent; the model
converts them to unbound with the fraction unbound (see ``docs/semantics.md``, "Exposure and
potency").
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
['PSMB5', 'PSMB6', 'PSMB7', 'PSMB8', 'PSMB9']
>>> drug, nM = drugs.parse_dose("bortezomib=10nM")
>>> nM
10.0
>>> drugs.from_smiles("CC(C)C[C@H](NC(=O)[C@@H](Cc1ccccc1)NC(=O)c1cnccn1)B(O)O").drug_class
'proteasome_inhibitor'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInputError
from ..units import MASS_UNITS, MOLAR_UNITS

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from rdkit.Chem import Mol

__all__ = [
    "BindingKinetics",
    "ACTIONS",
    "DRUG_TYPES",
    "DRUG_CLASSES",
    "EFFECTORS",
    "NOMINAL_UNIT",
    "POTENCY_UNITS",
    "POTENCY_BASES",
    "Potency",
    "CellularPotency",
    "FractionUnbound",
    "Reference",
    "TargetAction",
    "Drug",
]

ACTIONS = (
    "inhibit",
    "covalent_inhibit",
    "antagonist",
    "agonist",
    "glue_degrade",
    "bind_and_recruit_effectors",
    "activate_effectors",
    "engage_T_cells",
    "car_t_kill",
    "deliver_payload",
    "damage_DNA",
)
DRUG_TYPES = (
    "small_molecule",
    "antibody",
    "antibody_drug_conjugate",
    "bispecific_antibody",
    "cell_therapy",
)
DRUG_CLASSES = (
    "proteasome_inhibitor",
    "cereblon_modulator",
    "glucocorticoid",
    "anti_CD38_antibody",
    "anti_SLAMF7_antibody",
    "alkylator",
    "anthracycline",
    "HDAC_inhibitor",
    "XPO1_inhibitor",
    "BCL2_inhibitor",
    "anti_BCMA_ADC",
    "T_cell_engager",
    "CAR_T",
    "unknown",
)
EFFECTORS = ("ADCC", "CDC", "ADCP")
NOMINAL_UNIT = "nM-eq"
POTENCY_BASES = ("cellular", "biochemical")
POTENCY_UNITS = tuple(MOLAR_UNITS) + tuple(MASS_UNITS) + (NOMINAL_UNIT,)


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

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class CellularPotency(Potency):
    """A potency measured in cells (myeloma cells where one exists), as published.

    Same fields as :class:`Potency` plus `cell_line` (the cells it was measured in, e.g.
    ``"MM.1S"``, ``"H929, KMS-12-PE"``, ``"whole blood"``). Values measured in
    serum-containing medium are treated as unbound concentrations (``docs/semantics.md``).
    """

    cell_line: str = ""


@dataclass(frozen=True)
class FractionUnbound:
    """Plasma fraction unbound of a drug (dimensionless, in (0, 1]).

    Attributes
    ----------
    value : float
        Fraction of the total plasma concentration that is unbound.
    source : str
        Source identifier (label ``DailyMed:<set id>``, ``PMID:``, ``DOI:``...).
    low, high : float or None
        Recorded range when sources disagree or report a spread.
    note : str
        Where the number was read, and how it was derived (e.g. ``1 - 0.83`` from "83% bound").
    verified : bool
        False when the number could not be confirmed in a text that displays `source`.
    """

    value: float
    source: str
    low: float | None = None
    high: float | None = None
    note: str = ""
    verified: bool = True

    def to_dict(self) -> dict[str, Any]:
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

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class BindingKinetics:
    """How fast a drug's occupancy of one target follows its concentration.

    Attributes
    ----------
    kind : str
        ``"reversible"`` (`half_life_h` is the drug-target dissociation half-life) or
        ``"covalent"`` (irreversible: occupancy is lost only as new target is made;
        `half_life_h` is the recovery half-life of target activity).
    half_life_h : float
        The half-life used (h), > 0.
    source : str
        Identifier of the text the number was read in.
    low_h, high_h : float or None
        Range when sources disagree or the number is derived from bounds.
    measured : str
        What was measured (assay, system).
    derived : bool
        True when the number was computed from stated facts (arithmetic in `note`).
    note : str
    verified : bool
    capture_per_nM_h : float or None
        Covalent pairs only: the second-order capture rate constant ``k_cap`` (1/(nM h), the
        in-vivo analogue of kinact/KI against the plasma concentration) when one was read or
        derived (arithmetic in `note`); None: ``k_cap = k_recovery / K`` with the potency ``K``
        (:mod:`mmmech.dynamics.kinetics`).
    formation_h, exposure_h, held_exposure_h : float or None
        ``kind = "damage"`` only (DNA damage carried in time, melphalan): the half-life of
        crosslink formation from the drug's monoadducts, the effective exposure time (h) of
        the potency's nominal in-vitro concentration (so the damage at half effect is
        ``K * exposure_h``, in nM h), and, for doses without a PK model (held at the
        reference exposure for 24 h), the hours of reference exposure one dose stands for.
        For ``"damage"`` `half_life_h` is the repair half-life of the damage.
    """

    kind: str
    half_life_h: float
    source: str
    low_h: float | None = None
    high_h: float | None = None
    measured: str = ""
    derived: bool = False
    note: str = ""
    verified: bool = True
    capture_per_nM_h: float | None = None
    formation_h: float | None = None
    exposure_h: float | None = None
    held_exposure_h: float | None = None

    def to_dict(self) -> dict[str, Any]:
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
        The single number the model uses for occupancy, in nM (nM-equivalents for CAR-T):
        the cellular potency when one is recorded, else the biochemical one.
    potency : Potency
        The biochemical (or only) potency, as published.
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
    cellular : CellularPotency or None
        Potency measured in cells (degradation DC50, cellular subunit inhibition, ...).
    potency_basis : str
        ``"cellular"`` when `potency_nM` comes from `cellular`, else ``"biochemical"``.
    kinetics : BindingKinetics or None
        Binding kinetics (time course of occupancy, :mod:`mmmech.dynamics.kinetics`); None:
        occupancy follows the concentration instantly.
    """

    target: str
    action: str
    potency_nM: float
    potency: Potency
    hill: float = 1.0
    e3: str | None = None
    neo_substrates: tuple[str, ...] = ()
    confidence: float | None = None
    effectors: tuple[str, ...] | None = None
    effectors_sources: tuple[str, ...] = ()
    cellular: CellularPotency | None = None
    potency_basis: str = "biochemical"
    kinetics: BindingKinetics | None = None

    @property
    def potency_used(self) -> Potency:
        """The record `potency_nM` was read from (`cellular` or `potency`)."""
        if self.potency_basis == "cellular" and self.cellular is not None:
            return self.cellular
        return self.potency

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; ``source``/``verified`` describe the record behind `potency_nM`."""
        used = self.potency_used
        d: dict[str, Any] = {
            "target": self.target,
            "action": self.action,
            "potency_nM": self.potency_nM,
            "potency_basis": self.potency_basis,
            "source": used.source,
            "hill": self.hill,
            "verified": used.verified,
            "potency": self.potency.to_dict(),
        }
        if self.cellular is not None:
            d["cellular"] = self.cellular.to_dict()
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
    fraction_unbound : FractionUnbound or None
        Plasma fraction unbound (small molecules); None = not curated, the model uses 1.
    inference : mapping or None
        :func:`from_smiles` only: ``{"warheads": [...], "nearest": [{"name", "similarity"}],
        "confidence": float, ...}``.
    """

    name: str
    synonyms: tuple[str, ...]
    type: str
    drug_class: str
    mechanism: str
    smiles: str | None
    inchikey: str | None
    formula: str | None
    mol_weight: float | None
    targets: tuple[TargetAction, ...]
    reference: Reference | None
    reference_nM: float | None
    sources: tuple[str, ...] = ()
    structure_source: str = ""
    structure_note: str = ""
    structure_verified: bool = False
    mol_weight_source: str = ""
    fraction_unbound: FractionUnbound | None = None
    inference: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    _mol_cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def fu(self) -> float:
        """Fraction unbound the model uses: the curated value, or 1.0 when none is recorded
        (biologics, cell therapies, inferred molecules, small molecules without a source)."""
        return 1.0 if self.fraction_unbound is None else float(self.fraction_unbound.value)

    @property
    def mol(self) -> Mol | None:
        """The RDKit molecule (built on first use), or None for biologics."""
        if self.smiles is None:
            return None
        if "mol" not in self._mol_cache:
            # deferred: _chem imports RDKit (slow); only when a structure is needed
            from . import _chem

            self._mol_cache["mol"] = _chem.parse_smiles(self.smiles, "Drug.mol", "SMILES")
        return self._mol_cache["mol"]

    def descriptors(self) -> dict[str, Any]:
        """Drug-likeness descriptors of the molecule (see :func:`mmmech._chem.descriptors`).

        Raises
        ------
        InvalidInputError
            For biologics and cell therapies, which have no small-molecule structure.
        """
        mol = self.mol
        if mol is None:
            raise InvalidInputError(
                f"Drug.descriptors(): {self.name!r} is a {self.type.replace('_', ' ')}, not a "
                f"small molecule; descriptors need a structure"
            )
        from . import _chem  # deferred: _chem imports RDKit (slow); only when a structure is needed

        return _chem.descriptors(mol)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (keys of ``mmmech drugs show --json`` plus details)."""
        d: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "drug_class": self.drug_class,
            "smiles": self.smiles,
            "inchikey": self.inchikey,
            "formula": self.formula,
            "mol_weight": None if self.mol_weight is None else round(self.mol_weight, 3),
            "targets": [t.to_dict() for t in self.targets],
            "reference_nM": self.reference_nM,
            "fu": self.fu,
            "fraction_unbound": (
                None if self.fraction_unbound is None else self.fraction_unbound.to_dict()
            ),
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


def _plain(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj
