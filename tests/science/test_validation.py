"""The published validation table (pathways/validation/invitro_combinations.toml) and its
harness (mmmech.validation, ``mmmech validate``).

The table tests check the curation itself (sizes, both directions, sources, names); the harness
tests check that every entry is scored, that the reported knock-out really removes the predicted
interaction (recomputed independently with :func:`mmmech.score`), and the agreement target of
issue 15 (at least 80% of the reported directions reproduced).
"""

import json
import math
import pathlib

import pytest

import mmmech
from mmmech import drugs, sources, validation
from mmmech.cli import main
from mmmech.exceptions import ModelFileError, UnknownContextError, UnknownDrugError
from mmmech.network.contexts import load_context

ROOT = pathlib.Path(__file__).resolve().parents[2]
TABLE = validation.load_table()


@pytest.fixture(scope="module")
def rows():
    return validation.run()  # cached for the process: one run serves every test


# ------------------------------------------------------------------ the table
def test_table_has_at_least_30_distinct_pairs_and_both_directions():
    pairs = {e.pair for e in TABLE}
    assert len(pairs) >= 30, len(pairs)
    non_synergy = [e for e in TABLE if e.direction != "synergy"]
    assert len(non_synergy) >= 8, [e.id for e in non_synergy]
    assert {e.direction for e in TABLE} == set(validation.DIRECTIONS)
    assert len({e.id for e in TABLE}) == len(TABLE)


def test_every_entry_has_a_source_resolvable_drugs_and_a_context():
    for e in TABLE:
        assert sources.is_source(e.source), (e.id, e.source)
        assert drugs.get(e.drug_a).name == e.drug_a and drugs.get(e.drug_b).name == e.drug_b
        assert e.drug_a != e.drug_b, e.id
        assert load_context(e.context).name == e.context
        assert e.read_at.startswith("http"), (e.id, e.read_at)
        for text in (e.cells, e.co_culture, e.assay, e.measure, e.concentrations):
            assert text.strip(), e.id
        if not e.verified:
            assert e.note.strip(), f"{e.id}: an unverified entry must say why in its note"
        # an effector or stromal co-culture is scored in marrow, cells alone never are
        assert (e.co_culture == "none") == (e.context != "marrow"), e.id


def test_knockouts_of_entries_are_model_nodes():
    nodes = set(mmmech.pathways.load("myeloma").nodes)
    for e in TABLE:
        assert set(e.knockouts) <= nodes, (e.id, e.knockouts)


def test_meta_says_what_was_searched_and_that_nothing_was_tuned():
    meta = validation.table_meta()
    assert meta["date"] and meta["searched"].strip()
    assert "No number in the model" in meta["not_tuned"]


def _write(tmp_path, body):
    p = tmp_path / "t.toml"
    p.write_text(body, encoding="utf-8")
    return p


ENTRY = """[[combination]]
id = "x"
drug_a = "bortezomib"
drug_b = "{b}"
context = "{ctx}"
cells = "c"
co_culture = "none"
assay = "a"
measure = "m"
direction = "{d}"
concentrations = "n"
source = "{s}"
verified = true
read_at = "https://example.org"
"""


def test_load_table_checks_direction_source_drug_and_context(tmp_path):
    ok = dict(b="melphalan", ctx="cell_line", d="synergy", s="PMID:1")
    assert validation.load_table(_write(tmp_path, ENTRY.format(**ok)))[0].drug_b == "melphalan"
    with pytest.raises(ModelFileError, match="direction must be one of"):
        validation.load_table(_write(tmp_path, ENTRY.format(**{**ok, "d": "synergistic"})))
    with pytest.raises(ModelFileError, match="not a source identifier"):
        validation.load_table(_write(tmp_path, ENTRY.format(**{**ok, "s": "Ma 2003"})))
    with pytest.raises(UnknownDrugError):
        validation.load_table(_write(tmp_path, ENTRY.format(**{**ok, "b": "melfalan"})))
    with pytest.raises(UnknownContextError):
        validation.load_table(_write(tmp_path, ENTRY.format(**{**ok, "ctx": "marow"})))
    with pytest.raises(ModelFileError, match="used twice"):
        validation.load_table(_write(tmp_path, ENTRY.format(**ok) * 2))
    with pytest.raises(ModelFileError, match="missing field 'verified'"):
        text = ENTRY.format(**ok).replace("verified = true\n", "")
        validation.load_table(_write(tmp_path, text))


# ------------------------------------------------------------------ rules
def test_direction_classes_and_agreement_rules():
    t = validation.THRESHOLD
    assert validation.classify(t + 0.1) == "synergy"
    assert validation.classify(-t - 0.1) == "antagonism"
    assert validation.classify(t) == validation.classify(-t) == "additive"
    assert validation.agrees("synergy", 0.5) == (False, True)
    assert validation.agrees("synergy", -0.5) == (False, False)
    assert validation.agrees("antagonism", -5.0) == (True, True)
    assert validation.agrees("additive", -1.0) == (True, True)
    assert validation.agrees("additive", 3.0) == (False, False)
    assert validation.agrees("synergy", float("nan")) == (False, False)


# ------------------------------------------------------------------ the harness
def test_run_returns_one_finite_row_per_entry(rows):
    assert [r.id for r in rows] == [e.id for e in TABLE]
    for r, e in zip(rows, TABLE, strict=True):
        assert math.isfinite(r.bliss), r.id
        assert r.predicted == validation.classify(r.bliss)
        assert (r.agree_strict, r.agree_sign) == validation.agrees(e.direction, r.bliss)
        assert r.converged, r.id
        assert set(r.doses_nM) == {e.drug_a, e.drug_b}
        assert all(g[0] == 0.0 and len(g) == validation.POINTS + 1 for g in r.doses_nM.values())
        if abs(r.bliss) < validation.MIN_INTERACTION:
            assert r.knockout is None
        if r.knockout is not None:
            assert math.isfinite(r.knockout_bliss) and 0.0 <= r.knockout_kept <= 1.0
    s = validation.summary(rows)
    assert s["entries"] == len(TABLE) and 0.0 <= s["agreement_strict"] <= s["agreement_sign"]


def test_reported_knockout_brings_the_predicted_interaction_closer_to_zero(rows):
    """Recomputed independently: mmmech.score on the row's own dose grid, with the reported
    node knocked out (on top of the entry's own knockouts)."""
    by_id = {e.id: e for e in TABLE}
    checked = 0
    for r in rows:
        if r.knockout is None:
            continue
        e = by_id[r.id]
        # a killing readout is scored on the killing itself (sign flipped; see READOUTS)
        sgn = -1.0 if e.readout == "immune_killing" else 1.0
        again = (
            sgn
            * mmmech.score(
                [r.drug_a, r.drug_b],
                context=r.context,
                doses=r.doses_nM,
                knockouts=list(e.knockouts) + [r.knockout],
                metrics=["bliss"],
                readout=e.readout,
            ).scores["bliss"]
        )
        assert abs(again) < abs(r.bliss), (r.id, r.knockout, again, r.bliss)
        assert again == pytest.approx(r.knockout_bliss, abs=1e-6), (r.id, again)
        # the intact model on the same grid gives the row's prediction
        intact = (
            sgn
            * mmmech.score(
                [r.drug_a, r.drug_b],
                context=r.context,
                doses=r.doses_nM,
                knockouts=list(e.knockouts),
                metrics=["bliss"],
                readout=e.readout,
            ).scores["bliss"]
        )
        assert intact == pytest.approx(r.bliss, abs=1e-9)
        checked += 1
    assert checked >= 5


def test_gr_negative_cells_lose_the_selinexor_dexamethasone_synergy(rows):
    """The entry's knockout is applied: without NR3C1 dexamethasone has nothing to act on."""
    by_id = {r.id: r for r in rows}
    gr_neg = by_id["argueta2018_selinexor_dexamethasone_gr_negative"]
    assert gr_neg.knockouts == ["NR3C1"] and abs(gr_neg.bliss) < 1e-6


def test_run_on_a_table_file_with_an_ensemble(tmp_path):
    text = ENTRY.format(b="venetoclax", ctx="cell_line", d="synergy", s="PMID:26707935")
    text = text.replace('drug_a = "bortezomib"', 'drug_a = "dexamethasone"')
    (row,) = validation.run(table=_write(tmp_path, text), ensemble=3, seed=1)
    assert row.drug_a == "dexamethasone" and row.bliss_low is not None
    assert row.bliss_low <= row.bliss <= row.bliss_high
    assert row.bliss > validation.THRESHOLD and row.agree_strict


def test_model_reproduces_at_least_80_percent_of_reported_directions():
    """Issue 15: the reported direction (sign agreement: synergy Bliss > 0, antagonism < 0,
    additive |Bliss| <= 2, additive-or-better >= -2) for at least 80% of the entries. The
    stricter class agreement (|Bliss| > 2 to call synergy) is reported beside it in
    docs/validation.md and is lower; it is not the issue's criterion.

    Issue 15's criterion was met, and is kept, on the steady-state Viability index (30/37)."""
    s = validation.summary(validation.run(assay_hours=None))
    assert s["agreement_sign"] >= 0.8, s


def test_cell_number_readout_reproduces_at_least_75_percent_of_reported_directions(rows):
    """Issue 16 (in-vitro assays in time): on the default readout, the relative cell number
    after 72 h, the model reproduces 29/37 directions (78%; strict 21/37), one fewer than on
    the index: docs/validation.md lists what moved and why. Nothing was tuned to the table; this
    pins the measured level against silent regressions."""
    s = validation.summary(rows)
    assert s["agreement_sign"] >= 0.75, s


# ------------------------------------------------------------------ CLI and docs
def test_cli_validate_json_and_markdown_out(rows, tmp_path, capsys):
    out = tmp_path / "v.md"
    assert main(["validate", "--json", "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["rows"]) == len(TABLE) and doc["out"] == str(out)
    assert doc["summary"]["agreement_strict"] == validation.summary(rows)["agreement_strict"]
    text = out.read_text(encoding="utf-8")
    assert text == validation.to_markdown(rows)
    for e in TABLE:
        assert f"| {e.id} |" in text


def test_cli_validate_out_replaces_only_the_marked_part(rows, tmp_path, capsys):
    out = tmp_path / "doc.md"
    out.write_text(
        "# Title\nprose before\n<!-- BEGIN mmmech validate -->\nold table\n"
        "<!-- END mmmech validate -->\nprose after\n",
        encoding="utf-8",
    )
    assert main(["validate", "--out", str(out)]) == 0
    capsys.readouterr()
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Title\nprose before\n<!-- BEGIN mmmech validate -->\n")
    assert text.endswith("<!-- END mmmech validate -->\nprose after\n")
    assert "old table" not in text and validation.to_markdown(rows) in text


def test_cli_validate_refuses_a_folder_as_out_before_the_work(tmp_path, capsys):
    assert main(["validate", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "validate: cannot write" in err and "folder" in err


def test_docs_show_every_entry_and_the_failure_section():
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    assert "## What it gets wrong and why" in text
    for e in TABLE:
        assert f"| {e.id} |" in text, e.id
