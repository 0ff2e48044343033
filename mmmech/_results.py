"""The base of mmmech's small result records.

A result is a frozen dataclass with :meth:`Result.to_dict` giving its JSON document. Results that
carry dose-response grids or other matrices leave them out of ``to_dict()`` unless asked
(``matrices=True``): the same default everywhere. Results that were plain dicts in 0.1 still
answer ``result["key"]`` for one release, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

__all__ = ["Result", "MATRICES_DEFAULT"]

#: the default of ``to_dict(matrices=...)`` for every result
MATRICES_DEFAULT = False


class Result:
    """Mixin for frozen dataclass results: ``to_dict`` and the 0.1 mapping access."""

    #: fields never written to the JSON document (live objects such as a matplotlib Figure)
    _not_serialized: tuple = ()
    #: fields that hold matrices (left out unless ``to_dict(matrices=True)``)
    _matrices: tuple = ()

    def to_dict(self, matrices: bool = MATRICES_DEFAULT) -> dict[str, Any]:
        """Plain-Python dictionary (JSON-ready); ``matrices=True`` includes the grids."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]  # subclasses are dataclasses
            if f.name in self._not_serialized or (f.name in self._matrices and not matrices):
                continue
            out[f.name] = _plain(getattr(self, f.name))
        return out

    def __getitem__(self, key: str) -> Any:
        warnings.warn(
            f"{type(self).__name__}[{key!r}]: results are records now; use the "
            f"attribute .{key} (or .to_dict())",
            DeprecationWarning,
            stacklevel=2,
        )
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        """Deprecated mapping access of 0.1 (see :meth:`__getitem__`)."""
        warnings.warn(
            f"{type(self).__name__}.get({key!r}): results are records now; use the "
            f"attribute .{key}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self, key, default)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    tolist = getattr(value, "tolist", None)  # NumPy arrays and scalars
    return tolist() if callable(tolist) else value
