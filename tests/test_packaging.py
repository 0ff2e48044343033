"""The installed package finds its curated data and compiled kernels."""

import pathlib

import pytest

import mmmech
from mmmech import resources

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_curated_data_found_through_importlib_resources():
    for folder in ("structures", "pathways"):
        names = resources.list_data(folder, suffix=".md") + resources.list_data(folder)
        assert "README.md" in names, f"the data README of {folder} was not installed"
        for name in names:
            assert resources.data_file(folder, name).read_text(encoding="utf-8").strip()


def test_data_come_from_the_installed_copy_not_the_source_tree():
    """With a plain (non-editable) install, the data live beside the installed package."""
    pkg = pathlib.Path(mmmech.__file__).resolve().parent
    if ROOT in pkg.parents or pkg.parent == ROOT:
        pytest.skip("mmmech is imported from the source tree (editable install)")
    res = pathlib.Path(str(resources.data_file("pathways", "README.md")))
    assert pkg in res.parents
    assert ROOT not in res.parents


def test_compiled_kernels_are_importable():
    from mmmech import _kernels

    assert _kernels.available("_occupancy"), "mmmech was installed without its kernels"


def test_missing_kernel_gives_import_error_with_build_hint():
    from mmmech import _kernels
    from mmmech.exceptions import KernelUnavailableError

    with pytest.raises(ImportError, match="pip install"):
        _kernels.load("_no_such_kernel")
    with pytest.raises(KernelUnavailableError):
        _kernels.load("_no_such_kernel")


def test_lazy_top_level_names():
    assert "simulate" in dir(mmmech)
    with pytest.raises(AttributeError):
        mmmech.__getattr__("no_such_thing")
