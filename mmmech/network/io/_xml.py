"""XML formats of :mod:`mmmech.interchange`: GraphML, SBML-qual (python-libsbml), KEGG KGML.

Every XML file first goes through :func:`check_xml`: a plain expat pass that refuses entity
declarations (no "billion laughs", no external entities), never loads external DTDs (KGML's
``<!DOCTYPE pathway SYSTEM "https://...">`` line is allowed and ignored, nothing is fetched) and
turns malformed XML into a :class:`~mmmech.exceptions.ModelFileError` with file, line and
column. Only then do ElementTree (GraphML via networkx, KGML via Biopython) or libsbml see it.
"""

from __future__ import annotations

import math
from xml.parsers import expat

from ...exceptions import ModelFileError

__all__ = ["check_xml", "MMMECH_NS"]

#: XML namespace of the annotations mmmech writes into SBML-qual species
MMMECH_NS = "urn:mmmech:pathway:1"


class _Forbidden(Exception):
    pass


def check_xml(data: bytes, origin: str, max_depth: int | None = None) -> str:
    """Check that `data` (bytes) is well-formed XML without entity declarations (and, with
    `max_depth`, elements nested at most that deep).

    Returns
    -------
    str
        The local name of the root element.

    Raises
    ------
    ModelFileError
        Malformed XML (file, line, column and expat's reason) or a forbidden construct.
    """
    # namespace-aware, as ElementTree and libsbml are: an unbound prefix is malformed here too
    p = expat.ParserCreate(namespace_separator=" ")
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    root: list[str] = []

    def entity(name, *args):
        raise _Forbidden(
            f"entity declaration {name!r} (entities are refused: they can expand "
            f"without bound or read other files)"
        )

    def external(context, base, system_id, public_id):
        raise _Forbidden(f"external entity reference {system_id!r}")

    depth = [0]

    def start(name, attrs):
        if not root:
            root.append(name.split(" ")[-1].split(":")[-1])
        depth[0] += 1
        if max_depth is not None and depth[0] > max_depth:
            raise _Forbidden(f"elements nested deeper than {max_depth} levels")

    def end(name):
        depth[0] -= 1

    p.EntityDeclHandler = entity
    p.UnparsedEntityDeclHandler = entity
    p.ExternalEntityRefHandler = external
    p.StartElementHandler = start
    p.EndElementHandler = end
    try:
        p.Parse(data, True)
    except _Forbidden as exc:
        raise ModelFileError(f"{origin}, line {p.CurrentLineNumber}: refused {exc}") from None
    except expat.ExpatError as exc:
        raise ModelFileError(
            f"{origin}, line {exc.lineno}, column {exc.offset + 1}: malformed "
            f"XML: {expat.ErrorString(exc.code)}"
        ) from None
    except (LookupError, ValueError) as exc:  # e.g. encoding="TF-8" in the declaration
        raise ModelFileError(
            f"{origin}, line {p.CurrentLineNumber}: malformed XML: {' '.join(str(exc).split())}"
        ) from None
    if not root:
        raise ModelFileError(f"{origin}: no XML root element")
    return root[0]


def _expect_root(data, origin, want, fmt, max_depth=None):
    tag = check_xml(data, origin, max_depth)
    if tag.lower() != want:
        raise ModelFileError(
            f"{origin}, line 1: root element <{tag}> is not <{want}>; this is not a {fmt} file"
        )


def _num_attr(value, what, origin, lo=None, hi=None, open_lo=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ModelFileError(f"{origin}: {what} must be a number, got {value!r}") from None
    if (
        not math.isfinite(v)
        or (lo is not None and (v <= lo if open_lo else v < lo))
        or (hi is not None and v > hi)
    ):
        raise ModelFileError(
            f"{origin}: {what} must lie in {'(' if open_lo else '['}{lo}, {hi}], got {value!r}"
        )
    return v
