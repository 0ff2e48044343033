"""Regression tests for issue 13 (reliability report 0.1): hostile nesting, non-UTF-8 and
corrupt files, non-finite coordinates, duplicated mutations and drugs, misleading messages and
very wide plates. Each test failed before its fix (the report's case ids are in the names)."""

import gzip
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from _helpers import NEUTRAL_CWD, tiny_model

import mmmech
from mmmech import pathways, structures
from mmmech.exceptions import (
    InvalidInputError,
    ModelFileError,
    MutationError,
    StructureError,
    UnknownNodeError,
)
from mmmech.network import contexts, logic
from mmmech.network import io as interchange
from mmmech.network.logic import RuleSyntaxError, format_rule, parse_rule

MAX_DEPTH = getattr(logic, "MAX_DEPTH", 100)

TINY = tiny_model(rule="{rule}")


# ------------------------------------------------------------------ 13.15 nesting
@pytest.mark.parametrize(
    "rule", ["(" * 300 + "A" + ")" * 300, "NOT " * 10_000 + "A", "!" * (MAX_DEPTH + 1) + "A"]
)
def test_deep_rules_are_a_syntax_error_naming_the_limit(rule):  # P05, P06
    with pytest.raises(RuleSyntaxError, match=f"deeper than {MAX_DEPTH} levels"):
        parse_rule(rule)


def test_rules_up_to_the_limit_parse_and_print():
    deep = "(" * (MAX_DEPTH - 1) + "A AND NOT B" + ")" * (MAX_DEPTH - 1)
    assert format_rule(parse_rule(deep)) == "A AND NOT B"
    nots = "NOT " * MAX_DEPTH + "A"
    assert parse_rule(nots) == parse_rule("NOT " * (MAX_DEPTH - 2) + "NOT NOT A")
    assert format_rule(parse_rule(nots)) == "NOT " * MAX_DEPTH + "A"


def test_deep_rule_in_toml_model_names_file_and_line(tmp_path):  # P03, P05
    p = tmp_path / "parens.toml"
    p.write_text(TINY.replace("{rule}", "(" * 300 + "A" + ")" * 300))
    with pytest.raises(ModelFileError, match=r"parens\.toml, line \d+.*deeper than"):
        pathways.read(p)


@pytest.mark.parametrize("expr", ["(" * 300 + "A" + ")" * 300, "!" * 10_000 + "A"])
def test_deep_rule_in_bnet_names_file_and_line(tmp_path, expr):  # B09, B10
    p = tmp_path / "deep.bnet"
    p.write_text(f"A, A\nB, {expr}\n")
    with pytest.raises(ModelFileError, match=r"deep\.bnet, line 2: rule of B.*deeper than"):
        interchange.read(p)


@pytest.mark.parametrize("value", ["[" * 2000 + "]" * 2000, "{a = " * 2000 + "1" + "}" * 2000])
def test_deeply_nested_toml_is_a_model_file_error(tmp_path, value):  # P09, P10
    p = tmp_path / "deep.toml"
    p.write_text(f"x = {value}\n")
    with pytest.raises(ModelFileError, match=r"deep\.toml: invalid TOML: .*nested too deeply"):
        pathways.read(p)
    c = tmp_path / "deepctx.toml"
    c.write_text(f"[context]\nname = 'c'\nx = {value}\n")
    with pytest.raises(ModelFileError, match=r"deepctx\.toml: invalid TOML"):
        contexts.load_context(str(c))


def test_context_extending_itself_or_a_loop_is_refused(tmp_path, monkeypatch):  # P31, P32
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text('[context]\nname = "s"\nextends = "s.toml"\n')
    (tmp_path / "a.toml").write_text('[context]\nname = "a"\nextends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('[context]\nname = "b"\nextends = "a.toml"\n')
    with pytest.raises(ModelFileError, match=r"loop: s\.toml -> s\.toml"):
        contexts.load_context("s.toml")
    with pytest.raises(ModelFileError, match=r"loop: a\.toml -> b\.toml -> a\.toml"):
        contexts.load_context("a.toml")


def test_context_chain_without_loop_still_works(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c1.toml").write_text(
        '[context]\nname = "c1"\nextends = "marrow"\n[set]\nIL6 = 0.0\n'
    )
    (tmp_path / "c2.toml").write_text(
        '[context]\nname = "c2"\nextends = "c1.toml"\nknockout = ["CRBN"]\n'
    )
    c = contexts.load_context("c2.toml")
    assert c.settings["NKCells"] == 1.0 and c.settings["IL6"] == 0.0
    assert c.settings["CRBN"] == 0.0 and c.knockouts == ("CRBN",)


def test_long_extends_chain_is_bounded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    n = contexts.MAX_EXTENDS + 5
    for i in range(n):
        (tmp_path / f"k{i}.toml").write_text(
            f'[context]\nname = "k{i}"\nextends = "k{i + 1}.toml"\n'
        )
    (tmp_path / f"k{n}.toml").write_text(f'[context]\nname = "k{n}"\n')
    with pytest.raises(ModelFileError, match=f"more than {contexts.MAX_EXTENDS} contexts"):
        contexts.load_context("k0.toml")


def _sbml_with_nots(n):
    text = interchange.dumps(interchange.loads("A, A\nB, !A\n", "bnet"), "sbml-qual")
    s = text.find("<math")
    e = text.find("</math>")
    head = text[s : text.find(">", s) + 1]
    inner = '<apply><eq/><ci> A </ci><cn type="integer"> 1 </cn></apply>'
    return text[:s] + head + "<apply><not/>" * n + inner + "</apply>" * n + text[e:]


def test_deep_sbml_mathml_is_refused_before_libsbml(tmp_path):
    """libsbml overflows its C++ stack (SIGSEGV) on ~10,000 nested MathML elements: the depth
    is checked first. Run in a subprocess so a regression cannot take pytest down."""
    p = tmp_path / "deep.sbml"
    p.write_text(_sbml_with_nots(20_000))
    code = (
        "import mmmech.network.io as i, mmmech.exceptions as E\n"
        f"try:\n    i.read({str(p)!r})\nexcept E.ModelFileError as e:\n    print('ERR', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=NEUTRAL_CWD, timeout=120
    )
    assert out.returncode == 0, (out.returncode, out.stderr[-500:])
    assert out.stdout.startswith("ERR") and "nested deeper than" in out.stdout


def test_moderately_deep_sbml_gives_the_rule_depth_error(tmp_path):
    p = tmp_path / "d.sbml"
    p.write_text(_sbml_with_nots(300))
    with pytest.raises(ModelFileError, match="nests deeper than"):
        interchange.read(p)
    p.write_text(_sbml_with_nots(3))
    assert interchange.read(p).nodes["B"].rule == "NOT NOT NOT A"


def test_sbml_xor_expansion_is_bounded(tmp_path):
    text = interchange.dumps(interchange.loads("A, A\nB, !A\n", "bnet"), "sbml-qual")
    s, e = text.find("<math"), text.find("</math>")
    head = text[s : text.find(">", s) + 1]
    arg = '<apply><eq/><ci> A </ci><cn type="integer"> 1 </cn></apply>'

    def xor(k):
        return text[:s] + head + "<apply><xor/>" + arg * k + "</apply>" + text[e:]

    p = tmp_path / "x.sbml"
    p.write_text(xor(30))  # 2**30 terms once expanded: refused, not a hang
    with pytest.raises(ModelFileError, match="xor"):
        interchange.read(p)
    p.write_text(xor(2))  # A xor A == 0
    assert interchange.read(p).nodes["B"].rule is not None


def test_graphml_json_attribute_nested_too_deeply(tmp_path):
    g = interchange.dumps(interchange.loads("A, A\nB, !A\n", "bnet"), "graphml")
    deep = "[" * 100_000 + "]" * 100_000
    import re

    g2 = re.sub(
        r'(<data key="(d\d+)">)\{[^<]*\}(</data>)',
        lambda m: m.group(1) + deep + m.group(3),
        g,
        count=1,
    )
    assert g2 != g
    p = tmp_path / "deep.graphml"
    p.write_text(g2)
    with pytest.raises(ModelFileError, match="nested too deeply|must be JSON|not valid JSON"):
        interchange.read(p)


# ------------------------------------------------------------------ 13.16 encodings, gzip
def test_non_utf8_model_and_context_files(tmp_path):  # P12, P13, P36
    m = tmp_path / "latin1.toml"
    m.write_bytes(TINY.replace("{rule}", "A").replace('"tiny"', '"tiny é"', 1).encode("latin-1"))
    with pytest.raises(ModelFileError, match=r"latin1\.toml, line 2: not UTF-8 text \(byte 0xe9"):
        pathways.read(m)
    c = tmp_path / "ctx.toml"
    c.write_bytes(b"\xff[context]\n")
    with pytest.raises(ModelFileError, match=r"ctx\.toml, line 1: not UTF-8"):
        contexts.load_context(str(c))
    with pytest.raises(ModelFileError, match="not UTF-8"):
        mmmech.simulate("myeloma", {}, context=str(c))


def test_utf8_bom_model_is_read(tmp_path):
    m = tmp_path / "bom.toml"
    m.write_bytes(b"\xef\xbb\xbf" + TINY.replace("{rule}", "A").encode())
    assert pathways.read(m).nodes["B"].rule == "A"


PDB = """\
ATOM      1  N   ALA A   1       0.000   0.000   0.000  1.00  0.00           N
ATOM      2  CA  ALA A   1       1.458   0.000   0.000  1.00  0.00           C
ATOM      3  C   ALA A   1       2.009   1.420   0.000  1.00  0.00           C
ATOM      4  O   ALA A   1       1.251   2.390   0.000  1.00  0.00           O
ATOM      5  CB  ALA A   1       1.988  -0.773  -1.199  1.00  0.00           C
HETATM    6  C1  LIG A 900       4.000   1.500   0.000  1.00  0.00           C
END
"""


def test_truncated_and_corrupt_gzip_structures(tmp_path):  # D12, D13
    full = gzip.compress((PDB * 200).encode())
    t = tmp_path / "t.pdb.gz"
    t.write_bytes(full[: len(full) // 2])
    with pytest.raises(StructureError, match=r"t\.pdb\.gz.*truncated or corrupt"):
        structures.binding_site(t, ligand="LIG")
    bad = bytearray(gzip.compress(("REMARK x\n" * 5000 + PDB).encode()))
    for i in range(40, min(len(bad) - 20, 400)):
        bad[i] ^= 0x5A
    c = tmp_path / "c.pdb.gz"
    c.write_bytes(bytes(bad))
    with pytest.raises(StructureError, match=r"c\.pdb\.gz"):
        structures.binding_site(c, ligand="LIG")


def test_good_structure_reads(tmp_path):
    p = tmp_path / "ok.pdb"
    p.write_text(PDB)
    rows = structures.binding_site(p, ligand="LIG", cutoff=4.0)
    assert {r["resname"] for r in rows} == {"ALA"}


# ------------------------------------------------------------------ 13.11 coordinates
@pytest.mark.parametrize(
    "bad", ["     nan     nan     nan", "     inf    -inf     inf", "   1e+39   0.000   0.000"]
)
def test_non_finite_coordinates_are_refused(tmp_path, bad):  # D20, D25
    lines = PDB.splitlines(True)
    lines[2] = lines[2][:30] + bad + lines[2][54:]
    p = tmp_path / "nan.pdb"
    p.write_text("".join(lines))
    with pytest.raises(
        StructureError,
        match=r"nan\.pdb', line 3: atom 'C' of ALA 1 \(chain 'A'\) "
        r"has non-finite coordinates",
    ):
        structures.binding_site(p, ligand="LIG")


def test_non_finite_coordinates_in_a_structure_object(tmp_path):
    p = tmp_path / "ok.pdb"
    p.write_text(PDB)
    s = structures.load_structure(p).copy()
    next(iter(s.get_atoms())).coord = np.array([np.nan, 0, 0], dtype=np.float32)
    with pytest.raises(StructureError, match="non-finite coordinates"):
        structures.binding_site(s, ligand="LIG")


# ------------------------------------------------------------------ 13.9 mutations twice
@pytest.mark.filterwarnings("ignore::mmmech.structures.MutationWarning")
def test_same_mutation_twice_counts_once():  # U49, py-A20
    once = structures.potency_shifts(["PSMB5 A49T"])
    twice = structures.potency_shifts(["PSMB5 A49T", "PSMB5:p.Ala49Thr", "PSMB5 A108T precursor"])
    assert dict(twice) == dict(once)
    assert once["bortezomib"]["PSMB5"] > 1
    a = mmmech.simulate("myeloma", {"bortezomib": 30.0}, mutations=["PSMB5 A49T"])
    b = mmmech.simulate("myeloma", {"bortezomib": 30.0}, mutations=["PSMB5 A49T"] * 2)
    assert a["nodes"] == b["nodes"]


def test_mutation_in_context_and_again_given_counts_once(tmp_path):  # U50
    ctx = tmp_path / "resistant.toml"
    ctx.write_text(
        '[context]\nname = "resistant"\nextends = "cell_line"\nmutations = ["PSMB5 A49T"]\n'
    )
    s1 = mmmech.model.Simulator("myeloma", ["bortezomib"], context=str(ctx))
    s2 = mmmech.model.Simulator(
        "myeloma", ["bortezomib"], context=str(ctx), mutations=["PSMB5 A49T"]
    )
    assert s1.folds == s2.folds and len(s2.mutations) == 1


def test_same_mutation_with_different_folds_is_refused():
    with pytest.raises(MutationError, match="given twice with different folds"):
        structures.potency_shifts(["PSMB5 A49T", "PSMB5 A49T x20"])
    with pytest.raises(MutationError, match="x20 and PSMB5 A49T x5"):
        structures.potency_shifts(["PSMB5 A49T x20", "PSMB5 A49T x5"])
    # two different mutations of one target still multiply
    two = structures.potency_shifts(["PSMB5 A49T x2", "PSMB5 M45V x3"])
    assert two["bortezomib"]["PSMB5"] == pytest.approx(6.0)


def test_cli_mutation_twice_matches_once(run_cli):
    import json

    one = run_cli("simulate", "bortezomib=30nM", "--mutation", "PSMB5 A49T", "--json")
    two = run_cli(
        "simulate",
        "bortezomib=30nM",
        "--mutation",
        "PSMB5 A49T",
        "--mutation",
        "PSMB5 A49T",
        "--json",
    )
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert json.loads(one.stdout)["nodes"] == json.loads(two.stdout)["nodes"]


# ------------------------------------------------------------------ 13.10 API leniency
def test_drug_given_twice_through_a_synonym_is_refused():  # py-A17
    with pytest.raises(
        InvalidInputError, match="bortezomib is given twice.*'bortezomib' and 'Velcade'"
    ):
        mmmech.simulate("myeloma", {"bortezomib": 1.0, "Velcade": 2.0})
    # different regimens may name the drug differently
    df = mmmech.simulate("myeloma", [{"bortezomib": 1.0}, {"Velcade": 2.0}])
    assert df["bortezomib_nM"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("dose", [True, False, np.bool_(True)])
def test_bool_is_not_a_dose(dose):  # py-A07
    with pytest.raises(InvalidInputError, match="a bool is not a dose"):
        mmmech.simulate("myeloma", {"bortezomib": dose})


def test_string_knockouts_and_mutations_are_refused():  # py-A13
    with pytest.raises(InvalidInputError, match=r"knockouts must be a list.*\['CRBN'\]"):
        mmmech.simulate("myeloma", {}, knockouts="CRBN")
    with pytest.raises(InvalidInputError, match=r"mutations must be a list.*\['PSMB5 A49T'\]"):
        mmmech.simulate("myeloma", {}, mutations="PSMB5 A49T")
    with pytest.raises(InvalidInputError, match="knockouts must be a list"):
        mmmech.model.Simulator("myeloma", [], knockouts="CRBN")
    out = mmmech.simulate("myeloma", {}, knockouts=["CRBN"])
    assert out["nodes"]["CRBN"] == 0.0


def test_dose_amount_must_be_text():
    from mmmech import drugs

    with pytest.raises(InvalidInputError, match="an amount must be text"):
        drugs.dose_nM(drugs.get("bortezomib"), True)


# ------------------------------------------------------------------ 13.18 messages
def test_default_context_on_a_user_model_says_it_does_not_fit(tmp_path):  # P02
    p = tmp_path / "tiny.toml"
    p.write_text(TINY.replace("{rule}", "A"))
    with pytest.raises(
        UnknownNodeError, match="context 'cell_line' does not fit model 'tiny'.*--context none"
    ):
        mmmech.simulate(str(p), {})
    out = mmmech.simulate(str(p), {}, context="none")
    assert out["context"] == "none" and out["nodes"]["B"] == pytest.approx(1.0, abs=1e-4)
    assert out["nodes"]["Viability"] == pytest.approx(0.0, abs=1e-4)


def test_read_of_a_non_path_is_invalid_input():  # py-R08
    for bad in (123, None, b"x.toml", 1.5):
        with pytest.raises(InvalidInputError, match=r"read\(\): path must be a file path"):
            pathways.read(bad)
        with pytest.raises(InvalidInputError, match=r"read\(\): path must be a file path"):
            interchange.read(bad)


def _plate_df():
    rows = []
    for a in (0.0, 1.0, 3.0, 10.0):
        for b in (0.0, 0.5, 2.0, 8.0):
            y = 100 * (1 - 90 * a / (a + 3) / 100) * (1 - 70 * b / (b + 2) / 100)
            rows.append((1, "alpha", "beta", a, b, y, "uM"))
    return pd.DataFrame(
        rows, columns=["block_id", "drug1", "drug2", "conc1", "conc2", "response", "conc_unit"]
    )


@pytest.mark.parametrize("sep, word", [("\t", "tab-separated"), (";", "semicolon-separated")])
def test_tab_or_semicolon_plate_says_so(tmp_path, sep, word):  # C43, C44
    from mmmech.synergy import read_plate

    p = tmp_path / "plate.csv"
    _plate_df().to_csv(p, index=False, sep=sep)
    with pytest.raises(InvalidInputError) as exc:
        read_plate(p)
    msg = str(exc.value)
    assert word in msg and msg.count("did you mean") == 0 and "\n" not in msg


def test_missing_column_hint_is_not_repeated():
    from mmmech.synergy import score_table

    df = _plate_df().rename(columns={"block_id": "blockk", "response": "respons"})
    with pytest.raises(InvalidInputError) as exc:
        score_table(df, response="viability")
    msg = str(exc.value)
    assert "did you mean 'blockk'" in msg and "did you mean 'respons'" in msg
    assert msg.count("did you mean") == 2


# ------------------------------------------------------------------ 13.21 wide plates
def _wide(tmp_path, n_extra, name="wide.csv"):
    df = _plate_df()
    rng = np.random.default_rng(1)
    for i in range(n_extra):
        df[f"x{i}"] = (
            "same"
            if i % 3 == 0
            else (rng.integers(0, 3, len(df)).astype(str) if i % 3 == 1 else "")
        )
    p = tmp_path / name
    df.to_csv(p, index=False)
    return p


def test_wide_plate_reads_like_a_narrow_one(tmp_path, monkeypatch):
    """Tables past _WIDE header fields are read by the csv module as one block; the result
    (table, blocks, constant extra columns) equals the pandas reader's."""
    from mmmech.synergy import _io as _synergy_io
    from mmmech.synergy import read_plate
    from mmmech.synergy._io import iter_blocks

    p = _wide(tmp_path, 1_500)
    fast = read_plate(p)
    monkeypatch.setattr(_synergy_io, "_WIDE", 10**9)
    slow = read_plate(p)
    pd.testing.assert_frame_equal(fast.astype(object), slow.astype(object), check_dtype=False)
    (b,) = list(iter_blocks(fast, 2))
    assert set(b.extra) == {f"x{i}" for i in range(1_500) if i % 3 != 1}
    assert b.extra["x0"] == "same" and b.extra["x2"] == ""


def test_constant_columns_match_the_definition():
    from mmmech.synergy._io import _constant_columns

    blk = pd.DataFrame(
        {
            "a": [1, 1, 1],
            "b": [1, 2, 1],
            "c": [None, None, None],
            "d": [np.nan, 1.0, np.nan],
            "e": ["x", "x", "x"],
            "f": [np.nan, np.nan, np.nan],
        }
    )
    got = _constant_columns(blk.to_numpy(dtype=object), list(blk.columns))
    want = {c: blk[c].iloc[0] for c in blk.columns if len(pd.unique(blk[c])) == 1}
    assert set(got) == set(want) == {"a", "c", "e", "f"}
    assert got["a"] == 1 and got["e"] == "x" and got["c"] is None and np.isnan(got["f"])


def test_ragged_wide_plate_is_one_clear_error(tmp_path, monkeypatch):
    from mmmech.synergy import _io as _synergy_io
    from mmmech.synergy import read_plate

    monkeypatch.setattr(_synergy_io, "_WIDE", 3)
    p = tmp_path / "r.csv"
    p.write_text("block_id,drug1,drug2,conc1,conc2,response,conc_unit\n1,a,b,0,0,100,uM,extra\n")
    with pytest.raises(ModelFileError, match="expected 7 fields in line 2, saw 8"):
        read_plate(p)


# ------------------------------------------------------------------ found by the fuzz tests
def test_xml_unbound_prefix_and_unknown_encoding_are_model_file_errors():
    g = interchange.dumps(interchange.loads("A, A\nB, !A\n", "bnet"), "graphml")
    bad = g.replace("xmlns:xsi=", "mlns:xsi=", 1)
    with pytest.raises(ModelFileError, match="unbound prefix"):
        interchange.loads(bad, "graphml")
    s = interchange.dumps(interchange.loads("A, A\nB, !A\n", "bnet"), "sbml-qual")
    with pytest.raises(ModelFileError, match="malformed XML.*TF-8"):
        interchange.loads(s.replace('encoding="UTF-8"', 'encoding="TF-8"', 1), "sbml-qual")


@pytest.mark.parametrize(
    "edit, needle",
    [
        (('[[node]]\nname = "A"', '[actions.x]\nterm = 5\n[[node]]\nname = "A"'), "term must be"),
        (("y0 = 1.0", "y0 = nan"), "must be a finite number"),
        (("[model]", "sources = 5\n[model]"), r"\[sources\] must map"),
        (("[model]", "parameters = 5\n[model]"), r"\[parameters\] must be a table"),
        (
            ("[readouts]", "[parameters.p]\ndefault = 0.5\nsupports = 7\n[readouts]"),
            "supports must be a list",
        ),
        (("sign = 1\n", "sign = 1\nparameter = [1]\n"), "parameter must be the name"),
    ],
)
def test_model_values_of_the_wrong_type(tmp_path, edit, needle):
    text = TINY.replace("{rule}", "A")
    assert edit[0] in text
    p = tmp_path / "m.toml"
    p.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(ModelFileError, match=needle):
        pathways.read(p)


def test_model_edge_that_is_not_an_array(tmp_path):
    text = TINY.replace("{rule}", "A")
    p = tmp_path / "m.toml"
    p.write_text("edge = 5\n" + text[: text.index("[[edge]]")])
    with pytest.raises(ModelFileError, match="'edge' must be an array"):
        pathways.read(p)


def test_rule_errors_quote_a_long_rule_only_in_part():
    rule = " AND ".join(f"N{i}" for i in range(20_000)) + " AND ("
    with pytest.raises(RuleSyntaxError) as exc:
        parse_rule(rule)
    msg = str(exc.value)
    assert len(msg) < 300 and f"({len(rule)} characters)" in msg and "expected" in msg
    with pytest.raises(RuleSyntaxError, match=r"unexpected '\$'.*characters\)"):
        parse_rule(rule[:-1] + "$")


def test_settings_must_be_a_mapping():
    for bad in ("PSMB5=1", [("PSMB5", 1.0)], 5):
        with pytest.raises(InvalidInputError, match="settings must be a mapping"):
            mmmech.simulate("myeloma", {}, settings=bad)
        with pytest.raises(InvalidInputError, match="settings must be a mapping"):
            mmmech.model.Simulator("myeloma", [], settings=bad)
    assert mmmech.simulate("myeloma", {}, settings={"PSMB5": 0.0})["nodes"]["PSMB5"] == 0.0


def test_extends_is_resolved_beside_the_extending_file(tmp_path, monkeypatch):
    """``extends = "base.toml"`` names the file beside the context file, wherever the process
    runs (it used to be resolved against the working folder)."""
    sub = tmp_path / "ctx"
    sub.mkdir()
    (sub / "base.toml").write_text('[context]\nname = "base"\n[set]\nIL6 = 0.25\n')
    (sub / "child.toml").write_text('[context]\nname = "child"\nextends = "base.toml"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ctx = contexts.load_context(str(sub / "child.toml"))
    assert ctx.settings["IL6"] == 0.25
    (sub / "loop.toml").write_text('[context]\nname = "loop"\nextends = "loop.toml"\n')
    with pytest.raises(ModelFileError, match="loop"):
        contexts.load_context(str(sub / "loop.toml"))
