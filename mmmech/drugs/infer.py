"""Structure inference: class and likely targets of a molecule from its warheads and neighbours.

RDKit is imported on first use (:mod:`mmmech.drugs._chem`), never by ``import mmmech.drugs``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidInputError
from .catalog import library
from .records import CellularPotency, Drug, Potency, TargetAction

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from rdkit.Chem import Mol

__all__ = [
    "CLASS_RULES",
    "CALL_THRESHOLD",
    "SIMILARITY_CALL",
    "N_NEAREST",
    "standardize",
    "warheads",
    "from_smiles",
]


# Inference rules: (required warheads, class, [(target, action)], base confidence, rationale).
# A rule fires when all its warheads are present; see from_smiles() for how confidence combines
# with fingerprint similarity.
#: (warheads, class, ((target, action), ...), base confidence, rationale)
ClassRule = tuple[tuple[str, ...], str, tuple[tuple[str, str], ...], float, str]
_Candidate = tuple[float, str, tuple[tuple[str, str], ...], str]

CLASS_RULES: tuple[ClassRule, ...] = (
    (
        ("alpha_amido_boronic_acid",),
        "proteasome_inhibitor",
        (("PSMB5", "inhibit"),),
        0.85,
        "peptide boronic acid: reversible covalent adduct with the beta5 Thr1",
    ),
    (
        ("epoxyketone",),
        "proteasome_inhibitor",
        (("PSMB5", "covalent_inhibit"),),
        0.80,
        "alpha',beta'-epoxyketone: irreversible morpholino adduct with Thr1",
    ),
    (
        ("peptide_aldehyde",),
        "proteasome_inhibitor",
        (("PSMB5", "inhibit"),),
        0.55,
        "peptide aldehyde: reversible hemiacetal with Thr1 (not proteasome-selective)",
    ),
    (
        ("boronic_acid",),
        "proteasome_inhibitor",
        (("PSMB5", "inhibit"),),
        0.35,
        "boronic acid without a peptide: weak evidence on its own",
    ),
    (
        ("amino_glutarimide",),
        "cereblon_modulator",
        (("CRBN", "glue_degrade"),),
        0.85,
        "3-(N-linked) glutarimide: IMiD/CELMoD cereblon binder",
    ),
    (
        ("glutarimide",),
        "cereblon_modulator",
        (("CRBN", "glue_degrade"),),
        0.60,
        "glutarimide with free imide N-H: cereblon tri-Trp pocket binder",
    ),
    (
        ("hydroxamic_acid",),
        "HDAC_inhibitor",
        (("HDAC1", "inhibit"), ("HDAC2", "inhibit"), ("HDAC3", "inhibit"), ("HDAC6", "inhibit")),
        0.70,
        "hydroxamic acid: zinc-binding group of HDAC inhibitors",
    ),
    (
        ("nitrogen_mustard",),
        "alkylator",
        (("DNA", "damage_DNA"),),
        0.85,
        "bis(2-haloethyl)amine: DNA cross-linker",
    ),
    (
        ("steroid_3_keto_delta4", "corticoid_side_chain"),
        "glucocorticoid",
        (("NR3C1", "agonist"),),
        0.80,
        "3-keto-delta4 steroid with a corticoid side chain",
    ),
    (
        ("anthracycline_core",),
        "anthracycline",
        (("TOP2A", "inhibit"), ("DNA", "damage_DNA")),
        0.80,
        "anthraquinone tetracycle: intercalator / topoisomerase II poison",
    ),
    (
        ("acrylhydrazide_michael_acceptor",),
        "XPO1_inhibitor",
        (("XPO1", "covalent_inhibit"),),
        0.50,
        "acrylic hydrazide Michael acceptor (SINE): XPO1 Cys528",
    ),
    (
        ("bh3_mimetic_acylsulfonamide",),
        "BCL2_inhibitor",
        (("BCL2", "inhibit"),),
        0.60,
        "nitro/triflyl aryl acyl-sulfonamide: BH3-mimetic core",
    ),
)
# Classes whose mechanism needs a reactive/binding group: similarity without it counts half.
_WARHEAD_CLASSES = frozenset(
    {
        "proteasome_inhibitor",
        "cereblon_modulator",
        "HDAC_inhibitor",
        "alkylator",
        "glucocorticoid",
        "anthracycline",
    }
)
CALL_THRESHOLD = 0.5  # minimum confidence to name a class
SIMILARITY_CALL = 0.55  # minimum Tanimoto for a similarity-only call
N_NEAREST = 3


def standardize(smiles: str) -> Mol:
    """Parse and standardise a SMILES into an RDKit Mol (see :func:`mmmech._chem.standardize`).

    Raises
    ------
    InvalidInputError
        Empty input, invalid SMILES, no organic component, several comparable components.
    """
    from . import _chem  # deferred: _chem imports RDKit (slow); only when a structure is needed

    return _chem.standardize(smiles, "standardize", "SMILES")


def warheads(mol: Mol | str) -> list[str]:
    """Names of the mechanism-defining features in `mol` (SMARTS in :mod:`mmmech._chem`)."""
    from . import _chem  # deferred: _chem imports RDKit (slow); only when a structure is needed

    if isinstance(mol, str):
        mol = _chem.standardize(mol, "warheads", "SMILES")
    return _chem.warheads(mol)


@functools.lru_cache(maxsize=1)
def _library_fingerprints() -> tuple[tuple[Drug, Any, str], ...]:
    from . import _chem  # deferred: _chem imports RDKit (slow); only when a structure is needed

    out = []
    for drug in library().values():
        if drug.smiles is not None:
            std = _chem.standardize(drug.smiles, "library", f"SMILES of {drug.name!r}")
            out.append((drug, _chem.fingerprint(std), _chem.inchikey(std)))
    return tuple(out)


def _analog_potency(
    cls_drugs: Iterable[Drug], target: str, action: str, sims: Mapping[str, float]
) -> tuple[Potency, TargetAction, str]:
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
    pot = Potency(
        value=t.potency.value,
        unit=t.potency.unit,
        assay=f"by analogy to {drug.name} (Tanimoto {s:.2f}); not measured for this molecule",
        source=t.potency.source,
        low=t.potency.low,
        high=t.potency.high,
        note=f"Inferred: copied from {drug.name} {t.target} ({t.potency.assay}).",
        verified=False,
    )
    return pot, t, drug.name


def _analog_cellular(t: TargetAction, drug_name: str) -> CellularPotency | None:
    """The library target's cellular potency, copied and marked as inferred (None if absent)."""
    c = t.cellular
    if c is None:
        return None
    return CellularPotency(
        value=c.value,
        unit=c.unit,
        assay=f"by analogy to {drug_name}; not measured for this molecule",
        source=c.source,
        low=c.low,
        high=c.high,
        note=f"Inferred: copied from {drug_name} {t.target} ({c.assay}).",
        verified=False,
        cell_line=c.cell_line,
    )


def from_smiles(smiles: str, name: str | None = None) -> Drug:
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
    from . import _chem  # deferred: _chem imports RDKit (slow); only when a structure is needed

    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InvalidInputError(f"from_smiles(): name must be a non-empty string, got {name!r}")
    mol = _chem.standardize(smiles, "from_smiles", "SMILES")
    found = _chem.warheads(mol)
    fp = _chem.fingerprint(mol)
    key = _chem.inchikey(mol)
    lib = _library_fingerprints()
    sims_list = _chem.tanimoto(fp, [f for _, f, _ in lib])
    sims = {drug.name: round(float(s), 4) for (drug, _, _), s in zip(lib, sims_list, strict=True)}
    ranked = sorted(
        ((s, drug) for (drug, _, _), s in zip(lib, sims_list, strict=True)),
        key=lambda x: (-x[0], x[1].name),
    )
    nearest = [
        {"name": d.name, "similarity": round(float(s), 3), "drug_class": d.drug_class}
        for s, d in ranked[:N_NEAREST]
    ]
    match = next((d.name for d, _, k in lib if k == key), None)
    skeleton = next((d.name for d, _, k in lib if k[:14] == key[:14]), None)

    def best_sim(cls: str) -> float:
        return max((s for s, d in ranked if d.drug_class == cls), default=0.0)

    candidates: list[_Candidate] = []  # (confidence, class, targets, rationale)
    for needed, cls, tlist, base, why in CLASS_RULES:
        if all(w in found for w in needed):
            s = best_sim(cls)
            candidates.append((base + (1.0 - base) * s, cls, tlist, f"warhead: {why}"))
    if ranked:
        s, d = ranked[0]
        if s >= SIMILARITY_CALL:
            conf = s * (0.5 if d.drug_class in _WARHEAD_CLASSES else 1.0)
            tlist = tuple((t.target, t.action) for t in d.targets)
            candidates.append(
                (conf, d.drug_class, tlist, f"fingerprint similarity {s:.2f} to {d.name}")
            )
    # one entry per class: keep the strongest evidence
    by_class: dict[str, _Candidate] = {}
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
            pot, lib_t, lib_name = _analog_potency(cls_drugs, target, action, sims)
            targets.append(
                TargetAction(
                    target=target,
                    action=action,
                    potency_nM=lib_t.potency_nM,
                    potency=pot,
                    hill=lib_t.hill,
                    e3=lib_t.e3 if action == "glue_degrade" else None,
                    neo_substrates=lib_t.neo_substrates if action == "glue_degrade" else (),
                    confidence=confidence,
                    cellular=_analog_cellular(lib_t, lib_name),
                    potency_basis=lib_t.potency_basis,
                )
            )
        mechanism = (
            f"Inferred {drug_class.replace('_', ' ')} ({rule}; confidence {confidence:.2f})."
        )
    else:
        drug_class, rule = "unknown", None
        mechanism = (
            "No mechanism-defining warhead and no close library neighbour: class "
            "unknown (nothing supports a call)."
        )
    alternatives = [
        {"drug_class": c[1], "confidence": round(float(c[0]), 3), "evidence": c[3]}
        for c in ordered[1:]
    ]
    inference = MappingProxyType(
        {
            "warheads": tuple(found),
            "nearest": tuple(MappingProxyType(n) for n in nearest),
            "confidence": confidence,
            "rule": rule,
            "library_match": match,
            "same_connectivity": skeleton,
            "alternatives": tuple(MappingProxyType(a) for a in alternatives),
        }
    )
    return Drug(
        name=(name.strip() if name else "query"),
        synonyms=(),
        type="small_molecule",
        drug_class=drug_class,
        mechanism=mechanism,
        smiles=_chem.canonical_smiles(mol),
        inchikey=key,
        formula=_chem.formula(mol),
        mol_weight=_chem.mol_weight(mol),
        targets=tuple(targets),
        reference=None,
        reference_nM=None,
        sources=tuple(dict.fromkeys(t.potency.source for t in targets)),
        structure_source="user input (standardised by RDKit)",
        structure_verified=False,
        inference=inference,
    )
