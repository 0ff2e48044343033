"""Model interchange: read and write network formats (BoolNet, SIF, SBML-qual, GraphML, KGML,
JSON, mmmech TOML) through one format registry (:data:`FORMATS`)."""
from .formats import (
    read, write, loads, dumps, detect_format, build_network, default_rule, safe_name,
    with_initial, atomic_write, DefaultRulesWarning, FORMATS, READ_FORMATS, WRITE_FORMATS,
    POSITIVE_WORDS, NEGATIVE_WORDS,
)

__all__ = ["read", "write", "loads", "dumps", "detect_format", "build_network", "default_rule", "safe_name", "with_initial", "atomic_write", "DefaultRulesWarning", "FORMATS", "READ_FORMATS", "WRITE_FORMATS", "POSITIVE_WORDS", "NEGATIVE_WORDS"]
