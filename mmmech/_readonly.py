"""A read-only dict for the mappings inside frozen records (models, contexts).

Cached models and contexts are shared by every caller in a process; a mapping inside one must not
be changeable, or one caller's edit would change every later simulation. Unlike
:class:`types.MappingProxyType` it pickles (Dask sends models to workers) and is a ``dict`` for
``json`` and ``isinstance`` checks.
"""

__all__ = ["ReadOnlyDict", "read_only"]


class ReadOnlyDict(dict):
    """A dict whose mutating methods raise :class:`TypeError`; copy it with ``dict(d)`` to edit."""

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        raise TypeError(
            "this mapping is read-only (shared by every user of a cached model or "
            "context); copy it with dict(...) to change it"
        )

    __setitem__ = __delitem__ = __ior__ = _refuse
    update = pop = popitem = clear = setdefault = _refuse

    def __reduce__(self):
        return (ReadOnlyDict, (dict(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return f"ReadOnlyDict({dict.__repr__(self)})"


def read_only(mapping, depth=1):
    """`mapping` as a :class:`ReadOnlyDict`; with ``depth=2`` its dict values too."""
    if depth > 1:
        mapping = {
            k: read_only(v, depth - 1) if isinstance(v, dict) else v for k, v in mapping.items()
        }
    return mapping if isinstance(mapping, ReadOnlyDict) else ReadOnlyDict(mapping)
