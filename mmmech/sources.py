"""Source identifiers: the one pattern every curated fact's source must match.

Drugs (potencies, effector profiles), targets and structures, and pathway edges cite their
sources the same way:

==============  ===========================================  ==============================
kind            form                                         example
==============  ===========================================  ==============================
PubMed          ``PMID:<1-9 digits>``                        ``PMID:18568025``
DOI             ``DOI:10.<registrant>/<suffix>``             ``DOI:10.1182/blood-2012-...``
PubMed Central  ``PMC:PMC<digits>``                          ``PMC:PMC3046593``
PDB entry       ``PDB:<digit><3 alphanumerics>``             ``PDB:5FQD``
UniProt         ``UniProt:<accession>``                      ``UniProt:P28074``
FDA label       ``DailyMed:<set id>`` (a UUID)               ``DailyMed:0f1f1d0d-...``
==============  ===========================================  ==============================

A DailyMed set identifier names a drug label (the product's prescribing information), so values
read from an FDA label can be cited like a paper.

Examples
--------
>>> is_source("PMID:30612952"), is_source("PMID 30612952")
(True, False)
>>> source_url("PDB:5FQD")
'https://www.rcsb.org/structure/5FQD'
"""

import re

__all__ = ["SOURCE_PATTERN", "SOURCE_KINDS", "is_source", "source_url", "describe_expected"]

_KINDS = {
    "PMID": r"PMID:\d{1,9}",
    "DOI": r"DOI:10\.\d{4,9}/\S+",
    "PMC": r"PMC:PMC\d{1,9}",
    "PDB": r"PDB:[0-9][A-Za-z0-9]{3}",
    "UniProt": r"UniProt:(?:[OPQ][0-9][A-Z0-9]{3}[0-9]"
    r"|[A-NR-Z][0-9](?:[A-Z][A-Z0-9]{2}[0-9]){1,2})",
    "DailyMed": r"DailyMed:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12}",
}
#: the kinds of source identifier, in the order messages list them
SOURCE_KINDS = tuple(_KINDS)
#: one source identifier, the whole string
SOURCE_PATTERN = re.compile("^(?:" + "|".join(_KINDS.values()) + ")$")
_URLS = {
    "PMID": "https://pubmed.ncbi.nlm.nih.gov/{}/",
    "DOI": "https://doi.org/{}",
    "PMC": "https://www.ncbi.nlm.nih.gov/pmc/articles/{}/",
    "PDB": "https://www.rcsb.org/structure/{}",
    "UniProt": "https://www.uniprot.org/uniprotkb/{}",
    "DailyMed": "https://dailymed.nlm.nih.gov/dailymed/drugInfo.cfm?setid={}",
}


def is_source(text: object) -> bool:
    """True when `text` is exactly one source identifier (see the module docstring)."""
    return isinstance(text, str) and SOURCE_PATTERN.match(text) is not None


def source_url(source: str) -> str:
    """The web address of a source identifier (for reports and links)."""
    if not is_source(source):
        raise ValueError(
            f"source_url(): not a source identifier: {source!r}; {describe_expected()}"
        )
    kind, _, ident = source.partition(":")
    return _URLS[kind].format(ident.upper() if kind == "PDB" else ident)


def describe_expected() -> str:
    """The sentence messages use to say what a source must look like."""
    return (
        "a source must be PMID:<digits>, DOI:10.<...>, PMC:PMC<digits>, PDB:<id>, "
        "UniProt:<accession> or DailyMed:<label set id>"
    )
