"""One source-identifier pattern for drugs, targets and pathway files."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmmech.sources import SOURCE_KINDS, is_source, source_url

GOOD = [
    "PMID:18568025",
    "DOI:10.1182/blood.2020008209",
    "PMC:PMC3046593",
    "PDB:5FQD",
    "UniProt:P28074",
    "UniProt:A0A024R161",
    "DailyMed:ad8a5ff7-4a1c-4b48-8d8e-1a5b5b1e4c3d",
]
BAD = [
    "PMID 18568025",
    "pmid:1",
    "PMID:",
    "PMID:1234567890",
    "DOI:11.1/x",
    "doi.org/10.1/x",
    "PDB:ABCD",
    "PDB:5FQDX",
    "UniProt:p28074",
    "DailyMed:not-a-uuid",
    "a paper I read",
    " PMID:1",
    "PMID:1 ",
    "",
    None,
    12,
]


@pytest.mark.parametrize("s", GOOD)
def test_each_kind_is_accepted_and_linked(s):
    assert is_source(s)
    assert source_url(s).startswith("https://")


def test_every_kind_has_an_example():
    assert {g.split(":")[0] for g in GOOD} == set(SOURCE_KINDS)


@pytest.mark.parametrize("s", BAD)
def test_malformed_identifiers_are_refused(s):
    assert not is_source(s)


@given(st.text(max_size=30))
def test_random_text_is_a_source_only_with_a_known_prefix(text):
    if is_source(text):
        assert text.split(":", 1)[0] in SOURCE_KINDS


@pytest.mark.parametrize("layer", ["drugs", "structures", "network"])
def test_every_layer_checks_sources_with_the_shared_pattern(layer):
    import importlib
    import inspect

    mod = {
        "drugs": "mmmech.drugs.catalog",
        "structures": "mmmech.structures.registry",
        "network": "mmmech.network.model",
    }[layer]
    src = inspect.getsource(importlib.import_module(mod))
    assert "from ..sources import" in src
    assert 're.compile(r"^(PMID' not in src


def test_a_label_source_is_accepted_in_a_drug_library():
    from mmmech.drugs import read_library
    from mmmech.exceptions import ModelFileError
    from mmmech.resources import data_file

    text = data_file("structures", "drugs.toml").read_text(encoding="utf-8")
    first = text.index('source = "PMID:')
    end = text.index('"', first + len('source = "'))
    edited = text[:first] + 'source = "DailyMed:ad8a5ff7-4a1c-4b48-8d8e-1a5b5b1e4c3d' + text[end:]
    lib = read_library(edited)
    assert any("DailyMed:" in str(d.to_dict()) for d in lib.values())
    with pytest.raises(ModelFileError, match="DailyMed:<label set id>"):
        read_library(edited.replace("DailyMed:ad8a5ff7", "DailyMed:xx8a5ff7"))
