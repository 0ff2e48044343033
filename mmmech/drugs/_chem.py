"""RDKit helpers for the drug layer: parsing, standardisation, warheads, fingerprints.

This module imports RDKit at import time; :mod:`mmmech.drugs` imports it lazily, only when a
molecule has to be built, so ``import mmmech.drugs`` stays cheap.

Warheads
--------
Mechanism-defining substructures, each a SMARTS pattern (see :data:`WARHEADS`):

``alpha_amido_boronic_acid``
    ``[#6][CX4]([NX3][CX3]=O)[BX3]([OX2])[OX2]``: a boronic acid (or boronate ester) on a carbon
    that carries an amide nitrogen, i.e. the C-terminal boro-amino acid of a peptide boronate.
    The boron forms a reversible tetrahedral adduct with the proteasome's catalytic Thr1
    (bortezomib, ixazomib, delanzomib).
``boronic_acid``
    ``[#6][BX3]([OX2])[OX2]``: any carbon-bound boronic acid or ester. Alone it is weak evidence
    (aryl boronic acids are common building blocks).
``epoxyketone``
    ``[#6][CX3](=O)[CX4]1[OX2][CX4]1``: the alpha',beta'-epoxyketone of epoxomicin, carfilzomib
    and oprozomib, which forms an irreversible morpholino adduct with Thr1 (both its O-gamma
    and its free amine).
``peptide_aldehyde``
    ``[CX3H1](=O)[CX4H1][NX3H1][CX3]=O``: an alpha-amido aldehyde (MG-132 type), a reversible
    hemiacetal-forming proteasome warhead (also hits calpains and cathepsins).
``glutarimide``
    ``O=C1[NX3H1]C(=O)[CX4][CX4][CX4]1``: piperidine-2,6-dione with a free imide N-H, the
    moiety that docks into the tri-tryptophan pocket of cereblon.
``amino_glutarimide``
    ``O=C1[NX3H1]C(=O)[CX4][CX4][CX4]1[#7X3]``: the glutarimide attached through C3 to a
    nitrogen (phthalimide, isoindolinone, quinazolinone): the IMiD/CELMoD degron binder.
``hydroxamic_acid``
    ``[CX3](=O)[NX3H1][OX2H1]``: zinc-chelating group of HDAC inhibitors (vorinostat,
    panobinostat, belinostat).
``nitrogen_mustard``
    ``[NX3](CC[Cl,Br,I])CC[Cl,Br,I]``: bis(2-haloethyl)amine, which cyclises to aziridinium and
    cross-links DNA (melphalan, bendamustine, chlorambucil, cyclophosphamide's phosphoramide).
``steroid_3_keto_delta4``
    A gonane (6-6-6-5 fused rings) whose A ring is a 3-one conjugated with the 4-ene
    (3-keto-delta4 or delta1,4 steroid): the A-ring pharmacophore of glucocorticoids, also
    present in mineralocorticoids, progestins and androgens.
``corticoid_side_chain``
    ``[#6;r5][CX3](=O)[CH2][OX2]``: the 17beta 20-keto-21-hydroxy (or 21-ester) side chain of
    corticosteroids; with the 3-keto-delta4 steroid it defines a glucocorticoid-like steroid.
``anthracycline_core``
    A tetracyclic 9,10-anthraquinone fused to a saturated ring (daunorubicin/doxorubicin
    aglycone), the DNA intercalator / topoisomerase II poison.
``acrylhydrazide_michael_acceptor``
    ``[CX3]=[CX3][CX3](=O)[NX3][NX3]``: alpha,beta-unsaturated hydrazide, the Cys528-reactive
    Michael acceptor of selective inhibitors of nuclear export (selinexor, verdinexor).
``bh3_mimetic_acylsulfonamide``
    An N-acyl aryl sulfonamide whose ring bears an amine ortho to a nitro or
    trifluoromethylsulfonyl group: the BH3-mimetic core of ABT-737, navitoclax and venetoclax.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import Crippen, Descriptors, rdFingerprintGenerator, rdMolDescriptors
from rdkit.Chem.MolStandardize import rdMolStandardize

from ..exceptions import InvalidInputError

__all__ = [
    "WARHEADS",
    "MAX_SMILES_LENGTH",
    "parse_smiles",
    "standardize",
    "warheads",
    "fingerprint",
    "tanimoto",
    "canonical_smiles",
    "inchikey",
    "formula",
    "mol_weight",
    "descriptors",
    "stereo_count",
]

RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]  # missing from the RDKit stubs

MAX_SMILES_LENGTH = 10_000

# name -> (SMARTS, one-line description). Order matters only for display.
WARHEADS = {
    "alpha_amido_boronic_acid": (
        "[#6][CX4]([NX3][CX3]=O)[BX3]([OX2])[OX2]",
        "peptide boronic acid/ester: reversible proteasome Thr1 warhead",
    ),
    "boronic_acid": ("[#6][BX3]([OX2])[OX2]", "boronic acid or boronate ester (any)"),
    "epoxyketone": (
        "[#6][CX3](=O)[CX4]1[OX2][CX4]1",
        "alpha',beta'-epoxyketone: irreversible proteasome Thr1 warhead",
    ),
    "peptide_aldehyde": (
        "[CX3H1](=O)[CX4H1][NX3H1][CX3]=O",
        "alpha-amido aldehyde: reversible proteasome warhead (MG-132 type)",
    ),
    "glutarimide": (
        "O=C1[NX3H1]C(=O)[CX4][CX4][CX4]1",
        "glutarimide with free imide N-H: cereblon tri-Trp pocket binder",
    ),
    "amino_glutarimide": (
        "O=C1[NX3H1]C(=O)[CX4][CX4][CX4]1[#7X3]",
        "3-(N-linked) glutarimide: IMiD/CELMoD cereblon binder",
    ),
    "hydroxamic_acid": ("[CX3](=O)[NX3H1][OX2H1]", "hydroxamic acid: HDAC zinc binder"),
    "nitrogen_mustard": (
        "[NX3](CC[Cl,Br,I])CC[Cl,Br,I]",
        "bis(2-haloethyl)amine: DNA cross-linking alkylator",
    ),
    "steroid_3_keto_delta4": (
        "O=C1[#6]=[#6]2~[#6]~[#6]~[#6]3~[#6](~[#6]~[#6]~[#6]4~[#6]~[#6]~[#6]~[#6]~3~4)~[#6]~2~[#6]~[#6]~1",
        "3-keto-delta4 steroid nucleus (A-ring enone)",
    ),
    "corticoid_side_chain": (
        "[#6;r5][CX3](=O)[CH2][OX2]",
        "20-keto-21-hydroxy/ester corticoid side chain",
    ),
    "anthracycline_core": (
        "O=C1c2ccccc2C(=O)c2cc3~[#6]~[#6]~[#6]~[#6]~c3cc12",
        "tetracyclic anthraquinone (anthracycline aglycone)",
    ),
    "acrylhydrazide_michael_acceptor": (
        "[CX3]=[CX3][CX3](=O)[NX3][NX3]",
        "alpha,beta-unsaturated hydrazide: XPO1 Cys528 Michael acceptor",
    ),
    "bh3_mimetic_acylsulfonamide": (
        "[CX3](=O)[NX3H1][SX4](=O)(=O)c1ccc([NX3H1])c(c1)[$([N+](=O)[O-]),$([SX4](=O)(=O)C(F)(F)F)]",
        "nitro/triflyl aryl acyl-sulfonamide: BH3-mimetic core (BCL-2 family)",
    ),
}


@functools.cache
def _pattern(name: str) -> Chem.Mol:
    smarts = WARHEADS[name][0]
    patt = Chem.MolFromSmarts(smarts)
    if patt is None:  # pragma: no cover - guarded by a test
        raise RuntimeError(f"warhead {name!r}: invalid SMARTS {smarts!r}")
    return patt


def _check_text(smiles: object, func: str, what: str) -> str:
    if not isinstance(smiles, str):
        raise InvalidInputError(
            f"{func}(): {what} must be a SMILES string, got {type(smiles).__name__} {smiles!r:.60}"
        )
    text = smiles.strip()
    if not text:
        raise InvalidInputError(f"{func}(): {what} is empty; expected a SMILES string")
    if len(text) > MAX_SMILES_LENGTH:
        raise InvalidInputError(
            f"{func}(): {what} is {len(text)} characters long; at most {MAX_SMILES_LENGTH} "
            f"are accepted"
        )
    if any(c.isspace() for c in text):
        raise InvalidInputError(
            f"{func}(): {what} {text!r:.80} contains whitespace; a SMILES has none "
            f"(quote it on the command line)"
        )
    return text


def parse_smiles(smiles: str, func: str = "parse_smiles", what: str = "SMILES") -> Chem.Mol:
    """Parse and sanitise `smiles`; :class:`InvalidInputError` naming the input when RDKit fails."""
    text = _check_text(smiles, func, what)
    mol = Chem.MolFromSmiles(text)  # sanitises and perceives stereo (E/Z, CIP)
    if mol is not None and mol.GetNumAtoms() > 0:
        return mol
    # diagnose: parse without sanitising to tell syntax errors from chemistry errors
    mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        raise InvalidInputError(
            f"{func}(): {what} {text!r:.80} is not a valid SMILES (RDKit could not parse it)"
        )
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises several sanitisation exception types
        reason = " ".join(str(exc).split())
        raise InvalidInputError(
            f"{func}(): {what} {text!r:.80} is not a valid molecule: {reason}"
        ) from None
    if mol.GetNumAtoms() == 0:
        raise InvalidInputError(f"{func}(): {what} {text!r:.80} has no atoms")
    return mol


def stereo_count(mol: Chem.Mol) -> int:
    """Number of defined tetrahedral centres plus defined stereo double bonds."""
    n = sum(1 for a in mol.GetAtoms() if a.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED)
    n += sum(1 for b in mol.GetBonds() if b.GetStereo() > Chem.BondStereo.STEREOANY)
    return n


def standardize(smiles: str, func: str = "standardize", what: str = "SMILES") -> Chem.Mol:
    """Parse, clean and standardise one molecule.

    Steps: RDKit sanitisation; cleanup (normalise functional groups, reionise); removal of
    common salts and solvents; choice of the single remaining organic component (an input
    with two or more comparable organic components is rejected); neutralisation; and the
    canonical tautomer where it is safe, i.e. where it keeps every defined stereo element,
    every warhead and the standard InChIKey (tautomer enumeration would otherwise erase the
    stereocentre of a glutarimide, for example, or move a hydrogen InChI does not treat as
    mobile). The result is a consistent canonical SMILES for inputs that differ only in such
    tautomeric form.

    Parameters
    ----------
    smiles : str
        One molecule, optionally with counter-ions or solvent (``'...B(O)O.Cl'``).

    Returns
    -------
    rdkit.Chem.Mol
        The standardised parent molecule.

    Raises
    ------
    InvalidInputError
        Empty or invalid SMILES, no organic component, or several comparable components.
    """
    mol = parse_smiles(smiles, func, what)
    text = smiles.strip()
    try:
        mol = rdMolStandardize.Cleanup(mol)
    except Exception as exc:  # pragma: no cover - RDKit edge cases
        raise InvalidInputError(
            f"{func}(): {what} {text!r:.80} could not be standardised: {' '.join(str(exc).split())}"
        ) from None
    frags = list(Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=True))
    if len(frags) > 1:
        stripped = rdMolStandardize.FragmentRemover().remove(mol)
        kept = (
            list(Chem.GetMolFrags(stripped, asMols=True, sanitizeFrags=True))
            if stripped.GetNumAtoms()
            else []
        )
        frags = kept or frags
    organic = [f for f in frags if any(a.GetAtomicNum() == 6 for a in f.GetAtoms())]
    if not organic:
        raise InvalidInputError(
            f"{func}(): {what} {text!r:.80} contains no organic (carbon-containing) component"
        )
    organic.sort(key=lambda f: f.GetNumHeavyAtoms(), reverse=True)
    if len(organic) > 1:
        big, second = organic[0].GetNumHeavyAtoms(), organic[1].GetNumHeavyAtoms()
        if second >= max(4, 0.3 * big):
            sizes = ", ".join(str(f.GetNumHeavyAtoms()) for f in organic[:5])
            raise InvalidInputError(
                f"{func}(): {what} {text!r:.80} has {len(organic)} organic components "
                f"({sizes} heavy atoms); pass one molecule (salts and solvents are removed "
                f"automatically)"
            )
    parent = organic[0]
    parent = rdMolStandardize.Uncharger().uncharge(parent)
    Chem.SanitizeMol(parent)
    try:
        enum = rdMolStandardize.TautomerEnumerator()
        enum.SetMaxTautomers(64)
        enum.SetMaxTransforms(256)
        taut = enum.Canonicalize(parent)
        if (
            stereo_count(taut) == stereo_count(parent)
            and warheads(taut) == warheads(parent)
            and inchikey(taut) == inchikey(parent)
        ):
            parent = taut
    except Exception:  # pragma: no cover - tautomer code is best effort; keep the parent
        pass
    return parent


def warheads(mol: Chem.Mol) -> list[str]:
    """Names of the mechanism-defining features (:data:`WARHEADS`) present in `mol`, in order."""
    return [name for name in WARHEADS if mol.HasSubstructMatch(_pattern(name))]


@functools.lru_cache(maxsize=1)
def _generator() -> Any:
    return rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


def fingerprint(mol: Chem.Mol) -> Any:
    """Morgan fingerprint, radius 2 (ECFP4-like), 2048 bits, no chirality."""
    return _generator().GetFingerprint(mol)


def tanimoto(fp: Any, fps: Iterable[Any]) -> list[float]:
    """Tanimoto similarities of `fp` to each fingerprint in `fps` (list of floats in [0, 1])."""
    return list(DataStructs.BulkTanimotoSimilarity(fp, list(fps)))


def canonical_smiles(mol: Chem.Mol) -> str:
    """RDKit canonical isomeric SMILES."""
    return Chem.MolToSmiles(mol)


def inchikey(mol: Chem.Mol) -> str:
    """Standard InChIKey."""
    return Chem.MolToInchiKey(mol)


def formula(mol: Chem.Mol) -> str:
    """Hill molecular formula (e.g. ``'C19H25BN4O4'``)."""
    return rdMolDescriptors.CalcMolFormula(mol)


def mol_weight(mol: Chem.Mol) -> float:
    """Average molecular weight in g/mol."""
    return float(Descriptors.MolWt(mol))  # type: ignore[attr-defined]  # generated at run time


def descriptors(mol: Chem.Mol) -> dict[str, Any]:
    """Drug-likeness descriptors of `mol`.

    Returns
    -------
    dict
        ``mol_weight`` (g/mol), ``exact_mass`` (Da), ``clogp`` (Crippen), ``tpsa`` (A^2),
        ``hbd``/``hba`` (Lipinski definitions: N-H + O-H count; N + O count),
        ``rotatable_bonds``, ``heavy_atoms``, ``lipinski_violations`` (MW > 500, cLogP > 5,
        HBD > 5, HBA > 10), ``lipinski`` (at most one violation), ``veber`` (rotatable bonds
        <= 10 and TPSA <= 140).
    """
    mw = mol_weight(mol)
    clogp = float(Crippen.MolLogP(mol))  # type: ignore[attr-defined]  # generated at run time
    tpsa = float(rdMolDescriptors.CalcTPSA(mol))
    hbd = int(rdMolDescriptors.CalcNumLipinskiHBD(mol))
    hba = int(rdMolDescriptors.CalcNumLipinskiHBA(mol))
    rot = int(rdMolDescriptors.CalcNumRotatableBonds(mol))
    exact_mass = float(Descriptors.ExactMolWt(mol))  # type: ignore[attr-defined]  # run-time name
    violations = int(mw > 500) + int(clogp > 5) + int(hbd > 5) + int(hba > 10)
    return {
        "mol_weight": round(mw, 3),
        "exact_mass": round(exact_mass, 4),
        "clogp": round(clogp, 3),
        "tpsa": round(tpsa, 2),
        "hbd": hbd,
        "hba": hba,
        "rotatable_bonds": rot,
        "heavy_atoms": int(mol.GetNumHeavyAtoms()),
        "lipinski_violations": violations,
        "lipinski": violations <= 1,
        "veber": rot <= 10 and tpsa <= 140.0,
    }
