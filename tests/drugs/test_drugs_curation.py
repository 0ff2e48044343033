"""Curation invariants of structures/drugs.toml (issue 3: every curated number carries its source).

Three kinds of check:

* known answers from outside the project: values confirmed in a source text during the
  verification pass must stay as the source states them (number, unit, PMID);
* invariants over the whole library: a flagged number says why, a placeholder is never marked
  verified, an unconfirmed DOI never backs a verified number, ASH-abstract DOIs are declared as
  such;
* differential: every mass-unit reference concentration converts to nM with the RDKit (or
  curated) molecular weight, computed here independently of :mod:`mmmech.units`.
"""

import json
import math
import re

import pytest

from mmmech import drugs
from mmmech.cli import main
from mmmech.resources import load_toml


@pytest.fixture(scope="module")
def raw():
    """The drug library as written (before the loader turns it into Drug objects)."""
    return load_toml("structures", "drugs.toml")["drug"]


def _measures(raw):
    """Yield (drug name, label, table) for every potency and reference concentration."""
    for d in raw:
        for t in d.get("target", []):
            yield d["name"], f"{t['target']} {t['action']} potency", t["potency"]
        yield d["name"], "reference", d["reference"]


# DOIs written from memory that the verification pass could not confirm in any text searched.
UNCONFIRMED_DOIS = {
    "DOI:10.1158/0008-5472.CAN-09-2766",  # Kupperman 2010 (ixazomib)
    "DOI:10.1158/0008-5472.CAN-06-4086",  # Demo 2007 (carfilzomib)
    "DOI:10.1021/acs.jmedchem.9b01928",  # Hansen 2020 (mezigdomide)
    "DOI:10.1158/1078-0432.CCR-14-0695",  # Deckert 2014 (isatuximab)
    "DOI:10.1182/blood-2017-06-788786",  # Kumar 2017 (venetoclax)
}
ASH_DOI = re.compile(r"^DOI:10\.1182/blood\.V\d+\.\d+\.(\d+)\.\1$")


# ------------------------------------------------------------------ known answers from sources


@pytest.mark.parametrize(
    "name, value, unit, source",
    [
        # Drug Metab Dispos 1989;17(4):402-5: single 200 mg, mean peak 1.15 +/- 0.2 ug/mL
        ("thalidomide", 1.15, "ug/mL", "PMID:2571480"),
        # Mu et al. 2015 (PANORAMA-1/B2207 PK/PD): Cmax 8.1 ng/mL at the MTD with btz + dex
        ("panobinostat", 8.1, "ng/mL", "PMID:26494130"),
        # QTc study of a single 800 mg dose (Zolinza label 12.2): Cmax 1.7 +/- 0.67 uM
        ("vorinostat", 1.7, "uM", "PMID:19887475"),
        # Cancer Chemother Pharmacol 1993;32:379: 96 h infusion of 9 mg/m2/day, plateau 11.6 ng/mL
        ("doxorubicin", 11.6, "ng/mL", "PMID:8339389"),
        # Legler 1982: prednisolone steady state 437 ng/mL at 64 ug/h/kg IV
        ("prednisone", 437, "ng/mL", "PMID:7107818"),
    ],
)
def test_sourced_reference_concentrations_are_as_published(name, value, unit, source):
    ref = drugs.library()[name].reference
    assert (ref.value, ref.unit, ref.source, ref.verified) == (value, unit, source, True)


def test_lopez_girona_is_cited_by_its_confirmed_pmid(raw):
    # The DOI once written for Lopez-Girona 2012 was found nowhere; PMID 22552008 was confirmed.
    cited = [m["source"] for _, _, m in _measures(raw)] + [s for d in raw for s in d["sources"]]
    assert not any("leu.2012.119" in s for s in cited)
    thal = drugs.library()["thalidomide"]
    assert thal.targets[0].potency.source == "PMID:22552008"
    assert "PMID:22552008" in thal.sources


def test_panobinostat_range_spans_combination_and_single_agent_cmax():
    # With dexamethasone (enzyme induction) Cmax is about half the single-agent value.
    ref = drugs.library()["panobinostat"].reference
    assert ref.low is None and ref.high == 21.6 and ref.value < ref.high


def test_antibody_molecular_weights_confirmed_in_this_pass(raw):
    by_name = {d["name"]: d for d in raw}
    assert by_name["elotuzumab"]["mol_weight"] == 148100  # "148.1 kDa"
    for name in ("daratumumab", "isatuximab", "elotuzumab"):
        assert by_name[name]["mol_weight_verified"] is True, name


# ------------------------------------------------------------------------ library invariants


def test_every_flagged_number_says_why(raw):
    for name, label, m in _measures(raw):
        if m.get("verified", True) is False:
            note = m.get("note", "")
            assert len(note) >= 40, f"{name} {label}: verified = false needs a note saying why"


def test_placeholders_are_never_marked_verified(raw):
    for name, label, m in _measures(raw):
        what = (m.get("kind") or m.get("assay") or "").lower()
        if what.startswith(("nominal", "class placeholder")) or m.get("unit") == "nM-eq":
            assert m.get("verified", True) is False, f"{name} {label}: placeholder marked verified"


def test_unconfirmed_dois_never_back_a_verified_number(raw):
    for name, label, m in _measures(raw):
        if m["source"] in UNCONFIRMED_DOIS:
            assert m.get("verified", True) is False, f"{name} {label}: {m['source']}"
            assert "confirm" in m.get("note", "").lower(), f"{name} {label}: say it is unconfirmed"


def test_ash_abstract_dois_are_declared(raw):
    seen = 0
    for name, label, m in _measures(raw):
        if ASH_DOI.match(m["source"]):
            seen += 1
            assert "ASH" in m.get("note", ""), f"{name} {label}: name the ASH abstract"
    assert seen >= 4


def test_verified_biologic_weights_name_where_they_were_read(raw):
    for d in raw:
        if "mol_weight" not in d:
            continue
        assert 140_000 <= d["mol_weight"] <= 160_000, d["name"]  # IgG-sized biologics
        if d.get("mol_weight_verified", False):
            src = d["mol_weight_source"]
            assert "kDa" in src and "not confirmed" not in src, d["name"]


def test_structure_flags_match_notes(raw):
    for d in raw:
        if "smiles" not in d:
            continue
        note = d.get("structure_note", "")
        if d.get("structure_verified", False):
            assert "not matched" not in note, d["name"]
        else:
            assert note, f"{d['name']}: an unverified structure needs a note"


# ------------------------------------------------------------------------------ differential

MASS_TO_NG_PER_ML = {"ng/mL": 1.0, "ug/mL": 1e3, "mg/L": 1e3}


def _mass_unit_drugs():
    return sorted(n for n, d in drugs.library().items() if d.reference.unit in MASS_TO_NG_PER_ML)


def test_mass_unit_references_exist():
    # Several clinical Cmax values are in mass units; the differential test below needs them.
    assert {"bortezomib", "thalidomide", "panobinostat", "daratumumab"} <= set(_mass_unit_drugs())


@pytest.mark.parametrize("name", _mass_unit_drugs())
def test_mass_references_convert_with_the_molecular_weight(name):
    d = drugs.library()[name]
    ref = d.reference
    ng_per_ml = ref.value * MASS_TO_NG_PER_ML[ref.unit]
    expected = ng_per_ml / d.mol_weight * 1e3  # ng/mL / (g/mol) = umol/m3 = nM * 1e-3
    assert math.isfinite(d.reference_nM)
    assert d.reference_nM == pytest.approx(expected, rel=1e-9)


def test_show_json_carries_the_curated_reference(capsys):
    assert main(["drugs", "show", "thalidomide", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    ref = payload["reference"]
    assert (ref["value"], ref["unit"], ref["source"], ref["verified"]) == (
        1.15,
        "ug/mL",
        "PMID:2571480",
        True,
    )
    assert payload["reference_nM"] == pytest.approx(1150.0 / payload["mol_weight"] * 1e3)
