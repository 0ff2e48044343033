"""Fuzzing every file reader (issue 13, "Done when"): random bytes, garbled valid files and
hostile nesting go to the CSV plate, TOML model and context, BoolNet, SIF, GraphML, SBML-qual,
KGML, PDB/mmCIF and screen-journal readers. Each must return a valid result or raise one clean
:class:`~mmmech.exceptions.MmmechError` (a one-line message) -- never another exception, a
crash or a hang.

Examples are derandomized (tests/conftest.py), so a failure reproduces; explore further with
``pytest --hypothesis-profile=explore tests/test_fuzz_readers.py``.
"""

import gzip
import itertools
import os
import tempfile
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmmech import pathways, structures
from mmmech.exceptions import MmmechError
from mmmech.network import contexts
from mmmech.network import io as interchange
from mmmech.simulation.compiled import compile_model

N = int(os.environ.get("MMMECH_FUZZ_EXAMPLES", "200"))  # per reader: a few seconds each
_DIR = tempfile.mkdtemp(prefix="mmmech-fuzz-")
_COUNT = itertools.count()

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    """Remove the fuzz files when the module is done."""
    yield
    import shutil

    shutil.rmtree(_DIR, ignore_errors=True)


def _path(suffix):
    """A fresh file name per example (the readers cache by path, size and mtime)."""
    return os.path.join(_DIR, f"f{next(_COUNT)}{suffix}")


def _clean(call):
    """Run a reader: a result or one clean MmmechError (one line) are fine."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call()
        except MmmechError as exc:
            msg = str(exc)
            assert msg and "\n" not in msg, f"error message is not one line: {msg!r}"
            assert "Traceback" not in msg
            return exc


# ------------------------------------------------------------------ valid seeds
TINY = """[model]
name = "tiny"
version = "1"
description = "tiny"
[readouts]
viability = "Viability"
[parameters.p1]
default = 0.5
low = 0.1
high = 0.9
[actions.inhibit]
term = "AND NOT {drug}"
[[node]]
name = "A"
kind = "input"
y0 = 1.0
[[node]]
name = "B"
rule = "A AND NOT (C OR 0)"
tau = 2.0
[[node]]
name = "C"
rule = "NOT A"
[[node]]
name = "Viability"
kind = "phenotype"
rule = "NOT B"
[[edge]]
source = "A"
target = "B"
sign = 1
sources = ["PMID:1"]
w = 0.9
[[edge]]
source = "C"
target = "B"
sign = -1
sources = ["PMID:2"]
parameter = "p1"
[[edge]]
source = "A"
target = "C"
sign = -1
sources = ["PMID:3"]
[[edge]]
source = "B"
target = "Viability"
sign = -1
sources = ["PMID:1"]
"""

CONTEXT = """[context]
name = "mine"
description = "a user context"
extends = "marrow"
knockout = ["CRBN"]
overexpress = ["MYC"]
mutations = ["PSMB5 A49T"]
[set]
IL6 = 0.25
NKCells = 0.0
"""

BNET = """# a model
targets, factors
# mmmech y0: A=1 C=0.5
A, A
B, A & !C
C, (A | B) & !(D)
D, !B
"""

SIF = "source\tinteraction\ttarget\nA\t1\tB\nB\t-1\tC\nC\tactivates\tA\nD\nE\tbinds\tA\n"

_seed_model = interchange.loads(BNET, "bnet")
GRAPHML = interchange.dumps(_seed_model, "graphml")
SBML = interchange.dumps(_seed_model, "sbml-qual")
KGML = """<?xml version="1.0"?>
<!DOCTYPE pathway SYSTEM "https://www.kegg.jp/kegg/xml/KGML_v0.7.2_.dtd">
<pathway name="path:hsa04064" org="hsa" number="04064" title="NF-kappa B signaling pathway">
  <entry id="1" name="hsa:7124" type="gene"><graphics name="TNF, TNFA" type="rectangle"/></entry>
  <entry id="2" name="hsa:7132" type="gene"><graphics name="TNFRSF1A" type="rectangle"/></entry>
  <entry id="3" name="hsa:4790" type="gene"><graphics name="NFKB1" type="rectangle"/></entry>
  <entry id="4" name="hsa:5970" type="gene"><graphics name="RELA" type="rectangle"/></entry>
  <entry id="5" name="undefined" type="group"><component id="3"/><component id="4"/></entry>
  <relation entry1="1" entry2="2" type="PPrel">
    <subtype name="activation" value="--&gt;"/></relation>
  <relation entry1="2" entry2="5" type="PPrel">
    <subtype name="activation" value="--&gt;"/></relation>
  <relation entry1="3" entry2="1" type="GErel"><subtype name="inhibition" value="--|"/></relation>
</pathway>
"""

PDB = """\
HEADER    TEST
ATOM      1  N   ALA A   1       0.000   0.000   0.000  1.00  0.00           N
ATOM      2  CA  ALA A   1       1.458   0.000   0.000  1.00  0.00           C
ATOM      3  C   ALA A   1       2.009   1.420   0.000  1.00  0.00           C
ATOM      4  O   ALA A   1       1.251   2.390   0.000  1.00  0.00           O
ATOM      5  N   GLY A   2       3.332   1.536   0.000  1.00  0.00           N
ATOM      6  CA  GLY A   2       3.970   2.844   0.000  1.00  0.00           C
HETATM    7  C1  LIG A 900       4.000   1.500   0.000  1.00  0.00           C
HETATM    8  O   HOH A 901       5.000   5.000   5.000  1.00  0.00           O
END
"""

CIF = """data_test
loop_
_atom_site.group_PDB
_atom_site.id
_atom_site.type_symbol
_atom_site.label_atom_id
_atom_site.label_alt_id
_atom_site.label_comp_id
_atom_site.label_asym_id
_atom_site.label_entity_id
_atom_site.label_seq_id
_atom_site.pdbx_PDB_ins_code
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
_atom_site.occupancy
_atom_site.B_iso_or_equiv
_atom_site.auth_seq_id
_atom_site.auth_asym_id
_atom_site.pdbx_PDB_model_num
ATOM 1 N N . ALA A 1 1 ? 0.000 0.000 0.000 1.0 0.0 1 A 1
ATOM 2 C CA . ALA A 1 1 ? 1.458 0.000 0.000 1.0 0.0 1 A 1
ATOM 3 C C . ALA A 1 1 ? 2.009 1.420 0.000 1.0 0.0 1 A 1
HETATM 4 C C1 . LIG B 2 . ? 4.000 1.500 0.000 1.0 0.0 900 A 1
#
"""

PLATE = "block_id,drug1,drug2,conc1,conc2,response,conc_unit,cell_line_name\n" + "".join(
    f"1,alpha,beta,{a},{b},"
    f"{100 - 60 * a / (a + 3) - 50 * b / (b + 2) + 10 * a * b / (a * b + 9):.3f},uM,U266\n"
    for a in (0, 1, 3, 10)
    for b in (0, 0.5, 2, 8)
)

JOURNAL = (
    '{"mmmech_screen_journal": 1, "fingerprint": "fp", "config": {"drugs": ["a", "b"]}}\n'
    '{"key": "k1", "bliss_mean": 1.5, "drugs": ["a", "b"]}\n'
    '{"key": "k2", "bliss_mean": -0.5, "drugs": ["a", "c"]}\n'
)


# ------------------------------------------------------------------ strategies
_SYNTAX = "[]{}()=,.;:\"'#!&|~-+*/\\<>?\t\n 0123456789eEnaifNAOTR_xyz\x00\u00e9\u2603"


@st.composite
def garbled(draw, seeds, alphabet=_SYNTAX):
    """A valid file mangled by a few random edits (delete, duplicate, insert, truncate)."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 6))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 60)))
        op = draw(st.sampled_from(("del", "dup", "ins", "ins", "cut", "swap")))
        if op == "del":
            text = text[:i] + text[j:]
        elif op == "dup":
            text = text[:j] + text[i:j] * draw(st.integers(1, 3)) + text[j:]
        elif op == "ins":
            text = text[:i] + draw(st.text(alphabet, max_size=16)) + text[i:]
        elif op == "cut":
            text = text[:i]
        else:
            k = draw(st.integers(0, n))
            text = text[:i] + text[k : k + 10] + text[i:]
    enc = draw(st.sampled_from(("utf-8", "utf-8", "utf-8", "latin-1", "utf-16")))
    return text.encode(enc, "replace")


_VALUES = (
    "5",
    "-1",
    "0",
    "1e308",
    "nan",
    "inf",
    "-inf",
    "true",
    '"x"',
    '""',
    '"A"',
    "[]",
    "{}",
    '["A", 1]',
    "[[1]]",
    "{a = 1}",
    '{default = "x"}',
    "1979-05-27",
    '"PMID:1"',
    '"{drug} AND"',
    '"NOT"',
    '"A B"',
    "0.5",
)


@st.composite
def retyped(draw, seeds):
    """A valid TOML file with some values swapped for values of other types and ranges."""
    lines = draw(st.sampled_from(seeds)).splitlines()
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(lines) - 1))
        key, eq, _ = lines[i].partition(" = ")
        if eq:
            lines[i] = f"{key} = {draw(st.sampled_from(_VALUES))}"
        elif lines[i].startswith("[") and draw(st.booleans()):
            lines[i] = f"{lines[i].strip('[]')} = {draw(st.sampled_from(_VALUES))}"
    return ("\n".join(lines) + "\n").encode()


def deep(opens, closes, template, max_depth=3000):
    """`template` with '@@' replaced by d opens, a core and k closes (k may differ from d)."""
    return st.builds(
        lambda d, k: template.replace("@@", opens * d + "A" + closes * k).encode(),
        st.integers(0, max_depth),
        st.integers(0, max_depth),
    )


RANDOM = st.binary(max_size=3000)
FUZZ = settings(
    max_examples=N, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


def _write(data, suffix):
    p = _path(suffix)
    with open(p, "wb") as fh:
        fh.write(data)
    return p


# ------------------------------------------------------------------ readers
def _use(model):
    """A model that was read must also validate, compile and export cleanly."""
    if isinstance(model, pathways.PathwayModel):
        _clean(model.validate)
        _clean(lambda: compile_model(model))
        _clean(lambda: interchange.dumps(model, "bnet"))
    return model


def read_model_toml(data):
    return _use(_clean(lambda: pathways.read(_write(data, ".toml"))))


def read_context(data):
    return _clean(lambda: contexts.load_context(_write(data, ".toml")))


def read_net(fmt, suffix):
    def run(data):
        _clean(lambda: interchange.loads(data, fmt))
        return _use(_clean(lambda: interchange.read(_write(data, suffix))))

    return run


def read_structure(suffix, compress=False):
    def run(data):
        if compress:
            data = gzip.compress(data)
        p = _write(data, suffix)
        out = _clean(lambda: structures.load_structure(p))
        if not isinstance(out, Exception):
            _clean(lambda: structures.binding_site(p, ligand="LIG", cutoff=4.0))
        return out

    return run


def read_plate(data):
    from mmmech.synergy import read_plate as rp

    return _clean(lambda: rp(_write(data, ".csv")))


def read_journal(data):
    from mmmech.screening import journal

    p = _write(data, ".partial")

    def run():
        j = journal._Journal(p, "fp", {"drugs": ["a", "b"]})
        j.close()
        return j

    return _clean(run)


# ------------------------------------------------------------------ the tests
@FUZZ
@given(st.one_of(RANDOM, garbled([TINY]), retyped([TINY])))
def test_fuzz_toml_model(data):
    read_model_toml(data)


@FUZZ
@given(
    st.one_of(
        deep("[", "]", "x = @@\n"),
        deep("{a = ", "}", "x = @@\n"),
        deep("(", ")", TINY.replace('"A AND NOT (C OR 0)"', '"@@"')),
        deep("NOT ", "", TINY.replace('"A AND NOT (C OR 0)"', '"@@"')),
    )
)
def test_fuzz_toml_model_nesting(data):
    read_model_toml(data)


@FUZZ
@given(
    st.one_of(
        RANDOM,
        garbled([CONTEXT, CONTEXT.replace("marrow", "cell_line")]),
        retyped([CONTEXT]),
        deep("[", "]", "[context]\nname = 'x'\nknockout = @@\n"),
    )
)
def test_fuzz_context(data):
    read_context(data)


@FUZZ
@given(
    st.one_of(
        RANDOM, garbled([BNET]), deep("(", ")", "A, A\nB, @@\n"), deep("!", "", "A, A\nB, @@\n")
    )
)
def test_fuzz_bnet(data):
    read_net("bnet", ".bnet")(data)


@FUZZ
@given(st.one_of(RANDOM, garbled([SIF])))
def test_fuzz_sif(data):
    read_net("sif", ".sif")(data)


_XML = _SYNTAX + '<>/="&;'


@FUZZ
@given(
    st.one_of(
        RANDOM,
        garbled([GRAPHML], _XML),
        deep("<a>", "</a>", GRAPHML.replace("</graphml>", "@@</graphml>")),
    )
)
def test_fuzz_graphml(data):
    read_net("graphml", ".graphml")(data)


@FUZZ
@given(st.one_of(RANDOM, garbled([SBML], _XML)))
def test_fuzz_sbml_qual(data):
    read_net("sbml-qual", ".sbml")(data)


@FUZZ
@given(st.one_of(RANDOM, garbled([KGML], _XML)))
def test_fuzz_kgml(data):
    read_net("kgml", ".kgml")(data)


@FUZZ
@given(st.one_of(RANDOM, garbled([PDB], _SYNTAX + "ATOMHETMDL ")))
def test_fuzz_pdb(data):
    read_structure(".pdb")(data)


@FUZZ
@given(st.one_of(RANDOM, garbled([CIF], _SYNTAX + "_atomsite.loop ")))
def test_fuzz_mmcif(data):
    read_structure(".cif")(data)


@FUZZ
@given(st.one_of(garbled([PDB]), RANDOM))
def test_fuzz_gzip_structures(data):
    read_structure(".pdb.gz", compress=True)(data)
    # and bytes that are not (or not quite) gzip data
    read_structure(".pdb.gz")(gzip.compress(data)[: max(1, len(data) // 2)])
    read_structure(".cif.gz")(data)


@FUZZ
@given(
    st.one_of(
        RANDOM,
        garbled([PLATE], _SYNTAX + "uMn"),
        garbled([PLATE.replace(",", "\t"), PLATE.replace(",", ";")]),
    )
)
def test_fuzz_plate(data):
    read_plate(data)


@FUZZ
@given(garbled([PLATE, PLATE.replace(",", "\t")], _SYNTAX + "uMn"))
def test_fuzz_plate_wide_reader(data):
    """The csv-module reader of very wide tables (forced here by a small threshold)."""
    from unittest import mock

    from mmmech.synergy import _io as _synergy_io

    with mock.patch.object(_synergy_io, "_WIDE", 3):
        read_plate(data)


@FUZZ
@given(st.one_of(RANDOM, garbled([JOURNAL], _SYNTAX + '{}[]":,')))
def test_fuzz_journal(data):
    read_journal(data)


def test_journal_row_nested_too_deeply():
    """json.loads of a deeply nested row raises RecursionError: the journal treats it as a torn
    line, never a crash."""
    read_journal((JOURNAL.splitlines()[0] + "\n" + "[" * 100_000 + "\n").encode())
