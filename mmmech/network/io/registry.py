"""Model interchange: one module per format behind one registry.

========== ============ ===== ===== ==========================================================
format     extensions   read  write what it carries
========== ============ ===== ===== ==========================================================
toml       .toml        yes   no    mmmech's own curated format (:mod:`.toml`)
sif        .sif .tsv    yes   yes   nodes and signed edges (:mod:`.sif`)
           .txt
graphml    .graphml     yes   yes   everything mmmech has (:mod:`.graphml`)
bnet       .bnet        yes   yes   Boolean rules (:mod:`.bnet`)
sbml-qual  .sbml .xml   yes   yes   Boolean rules as SBML-qual transitions (:mod:`.sbml`)
kgml       .kgml .xml   yes   no    KEGG pathway maps (:mod:`.kgml`)
========== ============ ===== ===== ==========================================================

:data:`REGISTRY` maps each format name to its :class:`Format` (extensions, reader, writer);
:func:`read`, :func:`loads`, :func:`dumps` and :func:`write` dispatch through it, and
:func:`load` adds the bundled models. What an imported (foreign) model is, and how names and
default rules are made: :mod:`mmmech.network.io` (package docstring).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..._typing import ModelLike, PathLike
from ...exceptions import InvalidInputError, ModelFileError, UnknownNameError, UnknownNodeError
from ...resources import data_file, file_stamp, list_data, parse_toml, read_text_file
from ...utils import atomic_write, did_you_mean
from ..model import PathwayModel
from . import bnet, graphml, kgml, sbml, sif
from .toml import parse_model

__all__ = [
    "Format",
    "REGISTRY",
    "FORMATS",
    "READ_FORMATS",
    "WRITE_FORMATS",
    "read",
    "loads",
    "dumps",
    "write",
    "detect_format",
    "load",
    "available",
    "with_initial",
]


@dataclass(frozen=True)
class Format:
    """One interchange format: its name, file extensions and functions.

    ``reader(content, origin, name)`` takes the file's text (``binary=False``) or bytes
    (``binary=True``) and returns a PathwayModel; ``writer(model)`` returns the file's text.
    """

    name: str
    extensions: tuple
    reader: Callable | None = None
    writer: Callable | None = None
    binary: bool = False


REGISTRY = {
    "sif": Format("sif", (".sif", ".tsv", ".txt"), sif.read_sif, sif.write_sif),
    "graphml": Format(
        "graphml", (".graphml",), graphml.read_graphml, graphml.write_graphml, binary=True
    ),
    "bnet": Format("bnet", (".bnet",), bnet.read_bnet, bnet.write_bnet),
    "sbml-qual": Format(
        "sbml-qual", (".sbml", ".xml"), sbml.read_sbml_qual, sbml.write_sbml_qual, binary=True
    ),
    "kgml": Format("kgml", (".kgml", ".xml"), kgml.read_kgml, None, binary=True),
}
#: formats that can be read (besides mmmech's own .toml)
READ_FORMATS = tuple(n for n, f in REGISTRY.items() if f.reader is not None)
#: formats that can be written
WRITE_FORMATS = tuple(n for n, f in REGISTRY.items() if f.writer is not None)
FORMATS = READ_FORMATS

_EXT = {
    ".sif": "sif",
    ".tsv": "sif",
    ".txt": "sif",
    ".graphml": "graphml",
    ".bnet": "bnet",
    ".sbml": "sbml-qual",
    ".kgml": "kgml",
}

_ALIASES = {
    "sbml": "sbml-qual",
    "sbmlqual": "sbml-qual",
    "sbml_qual": "sbml-qual",
    "boolnet": "bnet",
    "kegg": "kgml",
    "xml-kgml": "kgml",
}


def _norm_format(fmt, allowed, func):
    f = str(fmt).strip().lower()
    f = _ALIASES.get(f, f)
    if f not in allowed:
        raise InvalidInputError(
            f"{func}(): format must be one of {', '.join(allowed)}, got "
            f"{fmt!r}{did_you_mean(f, allowed)}"
        )
    return f


def detect_format(path: PathLike, data: bytes | None = None) -> str:
    """Format of a file from its extension, or for ``.xml`` from its root element.

    Parameters
    ----------
    path : str
    data : bytes, optional
        File content (read from `path` when needed and not given).
    """
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext in _EXT and ext != ".xml":
        return _EXT[ext]
    if data is None:
        with open(path, "rb") as fh:
            data = fh.read(4096)
    head = data[:4096].decode("utf-8", "replace")
    root = re.search(r"<(?!\?|!)([A-Za-z_][\w.:-]*)", re.sub(r"<!--.*?-->", "", head, flags=re.S))
    tag = root.group(1).split(":")[-1].lower() if root else ""
    if tag == "sbml":
        return "sbml-qual"
    if tag == "pathway":
        return "kgml"
    if tag == "graphml":
        return "graphml"
    raise ModelFileError(
        f"{path}: cannot tell the format from the extension {ext or '(none)'!r}"
        f"{f' or the root element <{tag}>' if tag else ''}; use one of "
        f"{', '.join(sorted(_EXT))} or give format= "
        f"({', '.join(READ_FORMATS)})"
    )


def _read_foreign(p, format=None):
    """A foreign (non-TOML) model file `p` (a checked path) through the registry; see
    :func:`read`."""
    try:
        with open(p, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ModelFileError(f"read(): cannot read {p!r}: {exc.strerror or exc}") from None
    fmt = _norm_format(format, READ_FORMATS, "read") if format else detect_format(p, data)
    return _parse(data, fmt, p)


def loads(text: str | bytes, format: str, origin: str = "<string>") -> PathwayModel:
    """Parse file content (str or bytes) in `format`; see :func:`read`."""
    fmt = _norm_format(format, READ_FORMATS, "loads")
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return _parse(data, fmt, origin)


_GENERIC_STEMS = {"model", "network", "graph", "net", "pathway", "export"}


def _parse(data, fmt, origin):
    name = os.path.splitext(os.path.basename(origin))[0] or "imported"
    parent = os.path.basename(os.path.dirname(os.path.abspath(origin)))
    if name.lower() in _GENERIC_STEMS and parent and not origin.startswith("<"):
        name = parent  # e.g. bbm059_bortezomib_U266_Chudasama2015/model.bnet
    spec = REGISTRY[fmt]
    if spec.binary:
        return spec.reader(data, origin, name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ModelFileError(f"{origin}, line {line}: not UTF-8 text ({exc.reason})") from None
    return spec.reader(text, origin, name)


def dumps(model: ModelLike, format: str) -> str:
    """The text of `model` (PathwayModel, bundled name or path) in a writable `format`."""
    fmt = _norm_format(format, WRITE_FORMATS, "dumps")
    writer = REGISTRY[fmt].writer
    assert writer is not None  # WRITE_FORMATS holds only formats with a writer
    return writer(load(model))


def write(model: ModelLike, path: PathLike, format: str | None = None) -> str:
    """Write `model` to `path` atomically (temporary file, then ``os.replace``).

    Parameters
    ----------
    model : PathwayModel, bundled name or path
    path : str or os.PathLike
    format : {"sif", "graphml", "bnet", "sbml-qual"}, optional
        Default: from the extension (``.xml`` means SBML-qual).

    Returns
    -------
    str
        The path written.
    """
    p = os.fspath(path)
    if format is None:
        ext = os.path.splitext(p)[1].lower()
        fmt = "sbml-qual" if ext == ".xml" else _EXT.get(ext)
        if fmt not in WRITE_FORMATS:
            raise InvalidInputError(
                f"write(): cannot tell the format from {p!r}; give format= "
                f"({', '.join(WRITE_FORMATS)}) or use .sif, .graphml, .bnet, "
                f".sbml"
            )
    else:
        fmt = _norm_format(format, WRITE_FORMATS, "write")
    text = dumps(model, fmt)
    atomic_write(p, text.encode("utf-8"))
    return p


def with_initial(model: ModelLike, values: Mapping[str, float]) -> PathwayModel:
    """A copy of `model` whose nodes start from (and inputs hold) the given activities.

    Imported Boolean models carry no initial state (BoolNet has none; SBML-qual's
    ``initialLevel`` is optional), so every node starts at 0. Positive feedback loops can then
    latch a transient (in the Chudasama 2015 model, proteasome activity starting at 0 turns
    stress on for good); give the resting state of untreated cells here.

    Parameters
    ----------
    model : PathwayModel, bundled name or path
    values : mapping node -> activity in [0, 1]

    Examples
    --------
    >>> m = with_initial(loads("P, !D\\nD, D\\n", "bnet"), {"P": 1.0})
    >>> m.nodes["P"].y0, m.nodes["D"].y0
    (1.0, 0.0)
    """
    m = load(model)
    nodes = dict(m.nodes)
    for k, v in dict(values).items():
        if k not in nodes:
            raise UnknownNodeError(f"with_initial(): unknown node {k!r}{did_you_mean(k, nodes)}")
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"with_initial(): activity of {k} must be a number in [0, 1], got {v!r}"
            ) from None
        if not 0.0 <= fv <= 1.0:
            raise InvalidInputError(f"with_initial(): activity of {k} must lie in [0, 1], got {fv}")
        nodes[k] = dataclasses.replace(nodes[k], y0=fv)
    return dataclasses.replace(m, nodes=nodes)


def available() -> list[str]:
    """Names of the bundled models (``pathways/*.toml``)."""
    return [n[:-5] for n in list_data("pathways")]


@functools.lru_cache(maxsize=16)
def _load_bundled(name):
    res = data_file("pathways", f"{name}.toml")
    text = res.read_text(encoding="utf-8")
    return parse_model(parse_toml(text, f"pathways/{name}.toml"), f"pathways/{name}.toml", text)


@functools.lru_cache(maxsize=32)
def _read_cached(path, mtime_ns, size):
    text = read_text_file(path)
    return parse_model(parse_toml(text, path), path, text)


def _path_arg(path, func):
    """`path` as a str; InvalidInputError naming the argument for anything else."""
    p = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not isinstance(p, str):
        raise InvalidInputError(
            f"{func}(): path must be a file path (str or os.PathLike), got "
            f"{type(path).__name__} {path!r:.60}"
        )
    return p


def read(path: PathLike, format: str | None = None) -> PathwayModel:
    """Read a model file: mmmech's own ``.toml`` or a foreign format of the registry.

    Parameters
    ----------
    path : str or os.PathLike
    format : {"toml", "sif", "graphml", "bnet", "sbml-qual", "kgml"}, optional
        Default: from the extension (``.xml`` by its root element).

    Returns
    -------
    PathwayModel
        A ``.toml`` model is parsed once per file version (cached on path, modification time
        and size). A foreign model has ``curated=False`` and ``notes`` saying what happened on
        import.

    Raises
    ------
    ModelFileError
        Missing or malformed file (the message names the file, line or element, and the
        problem).
    """
    p = _path_arg(path, "read")
    if os.path.isdir(p):
        raise ModelFileError(f"read(): {p!r} is a folder, not a model file")
    if not os.path.isfile(p):
        raise ModelFileError(f"read(): no such model file {p!r}")
    if format == "toml" or (format is None and p.lower().endswith(".toml")):
        return _read_cached(*file_stamp(p))
    return _read_foreign(p, format)


def load(model: ModelLike = "myeloma") -> PathwayModel:
    """Load a model: a :class:`PathwayModel` (returned as is), a bundled name or a file path.

    Bundled models are parsed once per process (cached).
    """
    if isinstance(model, PathwayModel):
        return model
    if not isinstance(model, (str, os.PathLike)):
        raise InvalidInputError(
            f"load(): model must be a PathwayModel, a bundled name or a path, "
            f"got {type(model).__name__}"
        )
    text = os.fspath(model)
    if text in available():
        return _load_bundled(text)
    if os.sep in text or "." in os.path.basename(text) or os.path.exists(text):
        return read(text)
    raise UnknownNameError(
        f"load(): unknown model {text!r}; bundled models: "
        f"{', '.join(available())}{did_you_mean(text, available())}"
    )
