"""Context files: [levels], [sources], [notes], composition in order, bundled patient contexts."""

import pytest

from mmmech.exceptions import ModelFileError, UnknownContextError
from mmmech.network import load
from mmmech.network.contexts import (
    Context,
    available_contexts,
    compose_contexts,
    load_context,
)
from mmmech.sources import is_source

PATIENT = [
    "t11_14",
    "t4_14",
    "maf",
    "del17p",
    "gain1q",
    "ras",
    "crbn_low",
    "ikzf1_degron",
    "cd38_loss",
    "bcma_loss",
    "gprc5d_loss",
    "psmb5_mutant",
]


def _write(tmp_path, text, name="c.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_levels_sources_and_notes_are_read(tmp_path):
    path = _write(
        tmp_path,
        '[context]\nname = "mine"\n[levels]\nBCL2 = 1.5\nCRBN = 0\n'
        '[sources]\nBCL2 = ["PMID:1", "DOI:10.1000/x"]\n[notes]\nBCL2 = "a modelling choice"\n',
    )
    c = load_context(path)
    assert dict(c.levels) == {"BCL2": 1.5, "CRBN": 0.0}
    assert c.sources["BCL2"] == ("PMID:1", "DOI:10.1000/x")
    assert c.notes["BCL2"] == "a modelling choice"
    assert c.unsourced() == ["CRBN"]
    d = c.to_dict()
    assert d["levels"] == {"BCL2": 1.5, "CRBN": 0.0} and d["sources"]["BCL2"] == [
        "PMID:1",
        "DOI:10.1000/x",
    ]
    kinds = {(e["kind"], e["entry"]) for e in c.entries()}
    assert kinds == {("level", "BCL2"), ("level", "CRBN")}


@pytest.mark.parametrize(
    "body, needle",
    [
        ("[levels]\nBCL2 = -1\n", "[levels] BCL2 must be a relative level"),
        ("[levels]\nBCL2 = true\n", "[levels] BCL2"),
        ("[levels]\nBCL2 = 1e9\n", "[levels] BCL2"),
        ("[levels]\nBCL2 = 1.2\n[set]\nBCL2 = 0.5\n", "both fixed"),
        ("[levels]\nBCL2 = 1.2\n[sources]\nBCL2 = ['PMID 1']\n", "not a source identifier"),
        ("[levels]\nBCL2 = 1.2\n[sources]\nBCL2 = 'PMID:1'\n", "non-empty list"),
        ("[levels]\nBCL2 = 1.2\n[sources]\nBCL3 = ['PMID:1']\n", "names no entry"),
        ("[levels]\nBCL2 = 1.2\n[notes]\nMCL1 = 'x'\n", "names no entry"),
        ("[context]\nsources = ['nope']\n", "not a source identifier"),
        ("[level]\nBCL2 = 1.2\n", "unknown table 'level'"),
    ],
)
def test_bad_context_files_are_one_line_errors(tmp_path, body, needle):
    with pytest.raises(ModelFileError) as exc:
        load_context(_write(tmp_path, body))
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_a_mutation_entry_can_carry_sources(tmp_path):
    c = load_context(
        _write(
            tmp_path,
            '[context]\nmutations = ["PSMB5 A49T"]\n[sources]\n"PSMB5 A49T" = ["PMID:18565852"]\n',
        )
    )
    assert c.unsourced() == [] and c.sources["PSMB5 A49T"] == ("PMID:18565852",)


def test_composition_applies_in_order_later_wins(tmp_path):
    a = _write(tmp_path, "[set]\nIL6 = 1.0\nNKCells = 1.0\n[levels]\nBCL2 = 1.5\n", "a.toml")
    b = _write(
        tmp_path,
        "[context]\nknockout = ['TP53']\n[set]\nIL6 = 0.2\nBCL2 = 0.9\n[levels]\nNKCells = 0.5\n",
        "b.toml",
    )
    ab = load_context([a, b])
    assert ab.name == "a+b" and ab.parts == ("a", "b")
    assert ab.settings["IL6"] == 0.2  # later [set] wins
    assert ab.settings["BCL2"] == 0.9 and "BCL2" not in ab.levels  # later set replaces a level
    assert ab.levels["NKCells"] == 0.5 and "NKCells" not in ab.settings  # and vice versa
    assert ab.knockouts == ("TP53",) and ab.settings["TP53"] == 0.0
    ba = load_context([b, a])
    assert ba.settings["IL6"] == 1.0 and ba.levels["BCL2"] == 1.5 and ba.settings["NKCells"] == 1.0


def test_composed_name_reads_back_and_lists_and_tuples_agree():
    c = load_context(["marrow", "t11_14"])
    assert c.name == "marrow+t11_14"
    assert load_context("marrow+t11_14") == c == load_context(("marrow", "t11_14"))
    assert compose_contexts(["marrow"]) is load_context("marrow")
    assert c.settings["NKCells"] == 1.0 and c.levels["BCL2Basal"] > 1.0


def test_single_contexts_unchanged():
    cl = load_context("cell_line")
    assert cl.name == "cell_line" and cl.parts == () and dict(cl.levels) == {}
    assert load_context() == cl
    with pytest.raises(UnknownContextError, match="did you mean"):
        load_context("marow")
    with pytest.raises(UnknownContextError):
        load_context("marrow+nonexistent")


def test_mutations_accumulate_in_a_composition():
    c = load_context(["psmb5_mutant", "ikzf1_degron", "psmb5_mutant"])
    assert c.mutations == ("PSMB5 A49T", "IKZF1 Q146H", "PSMB5 A49T")


def test_every_bundled_context_loads_is_sourced_and_fits_the_model():
    model = load("myeloma")
    names = available_contexts()
    assert set(PATIENT) <= set(names) and {"cell_line", "marrow"} <= set(names)
    for name in PATIENT:
        c = load_context(name)
        assert isinstance(c, Context) and c.name == name and c.description
        assert c.unsourced() == [], (name, c.unsourced())
        for ids in list(c.sources.values()) + [c.references]:
            assert all(is_source(s) for s in ids), name
        for node in list(c.settings) + list(c.levels):
            assert node in model.nodes, (name, node)
        # patient contexts fix no cells or stroma: they compose with a cellular context
        assert not set(c.settings) & set(load_context("marrow").settings), name
    # ras fixes the model's oncogenic RAS input, with its source
    ras = load_context("ras")
    assert ras.settings["RAS"] == 1.0 and ras.references


def test_context_levels_are_read_only():
    c = load_context("t11_14")
    with pytest.raises(TypeError):
        c.levels["BCL2"] = 1.0
