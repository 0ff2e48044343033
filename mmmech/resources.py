"""Access to the curated data shipped with mmmech (structures/ and pathways/).

The top-level folders ``structures/`` and ``pathways/`` of the source tree are installed
as ``mmmech._data.structures`` and ``mmmech._data.pathways``; this module finds them through
:mod:`importlib.resources`, so they work from any installed copy (wheel, sdist, editable).
"""
import sys
from importlib import resources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .exceptions import ModelFileError

__all__ = ["data_file", "list_data", "load_toml", "parse_toml"]

_PACKAGES = {
    "structures": "mmmech._data.structures",
    "pathways": "mmmech._data.pathways",
    "contexts": "mmmech._data.pathways.contexts",
}


def data_file(folder, name):
    """Return a Traversable for `name` in a curated data `folder` ('structures', 'pathways', 'contexts')."""
    return resources.files(_PACKAGES[folder]).joinpath(name)


def list_data(folder, suffix=".toml"):
    """Names of the files in a curated data folder that end with `suffix`, sorted."""
    root = resources.files(_PACKAGES[folder])
    return sorted(p.name for p in root.iterdir() if p.name.endswith(suffix))


def parse_toml(text, origin):
    """Parse TOML `text`; a syntax error becomes :class:`ModelFileError` naming `origin` and the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelFileError(f"{origin}: invalid TOML: {exc}") from None


def load_toml(folder, name):
    """Load a bundled TOML file from a curated data folder."""
    res = data_file(folder, name)
    return parse_toml(res.read_text(encoding="utf-8"), f"{folder}/{name}")
