"""The examples in the docstrings run (on the installed package, like users see them)."""

import doctest
import importlib
import pkgutil

import pytest

import mmmech

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(mmmech.__path__, "mmmech.")
    if not m.name.startswith(("mmmech.cli", "mmmech._data", "mmmech.__main__"))
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # only a compiled kernel that this install did not build may be missing; any other
        # import failure is a bug the test must show
        if not (name.startswith("mmmech._kernels.") and exc.name == name):
            raise
        pytest.skip(f"{name}: not built in this install")
    res = doctest.testmod(
        mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert res.failed == 0, f"{res.failed} of {res.attempted} examples failed in {name}"
