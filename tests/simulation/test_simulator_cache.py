"""simulate()'s Simulator cache never hands back a stale or wrong Simulator (issue: a model given
as a path was not re-read after an edit; a pathlib.Path was keyed by the id of an object the cache
did not keep; two from_smiles molecules with the default name shared one entry)."""

import os
import pathlib

import pytest
from _helpers import tiny_model

import mmmech
from mmmech.simulation import simulator

BARE = '[context]\nname = "bare"\n'


def _write(path, y0):
    path.write_text(tiny_model(y0=y0), encoding="utf-8")
    # a distinct modification time even on coarse-grained file systems
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000 * (1 + int(y0 * 10))))


@pytest.fixture(autouse=True)
def _empty_cache():
    simulator._SIM_CACHE.clear()
    yield
    simulator._SIM_CACHE.clear()


@pytest.mark.parametrize("as_type", [str, pathlib.Path])
def test_an_edited_model_file_is_read_again(tmp_path, as_type):
    path = tmp_path / "tiny.toml"
    ctx = tmp_path / "bare.toml"
    ctx.write_text(BARE, encoding="utf-8")
    _write(path, 1.0)
    on = mmmech.simulate(as_type(path), {}, context=as_type(ctx))
    _write(path, 0.0)
    off = mmmech.simulate(as_type(path), {}, context=as_type(ctx))
    assert on["nodes"]["A"] == pytest.approx(1.0)
    assert off["nodes"]["A"] == pytest.approx(0.0)
    assert off["readouts"]["viability"] > on["readouts"]["viability"]


def test_an_edited_context_file_is_read_again(tmp_path):
    path = tmp_path / "tiny.toml"
    _write(path, 1.0)
    ctx = tmp_path / "ctx.toml"
    ctx.write_text(BARE + "[set]\nB = 0.0\n", encoding="utf-8")
    first = mmmech.simulate(str(path), {}, context=str(ctx))
    ctx.write_text(BARE + "[set]\nB = 1.0\n", encoding="utf-8")
    st = ctx.stat()
    os.utime(ctx, ns=(st.st_atime_ns, st.st_mtime_ns + 50_000_000))
    second = mmmech.simulate(str(path), {}, context=str(ctx))
    assert first["nodes"]["B"] == pytest.approx(0.0)
    assert second["nodes"]["B"] == pytest.approx(1.0)


def test_a_model_object_entry_keeps_its_object_alive():
    model = mmmech.pathways.load("myeloma")
    mmmech.simulate(model, {}, context="cell_line")
    entry = next(iter(simulator._SIM_CACHE.values()))
    assert any(obj is model for obj in entry[1])


def test_two_query_molecules_with_the_default_name_do_not_share_an_entry():
    thal = mmmech.drugs.from_smiles("O=C1CCC(N2C(=O)c3ccccc3C2=O)C(=O)N1")
    btz = mmmech.drugs.from_smiles("CC(C)C[C@H](NC(=O)[C@@H](Cc1ccccc1)NC(=O)c1cnccn1)B(O)O")
    assert thal.name == btz.name  # the situation of the defect
    a = simulator._cached_simulator("myeloma", [thal], "cell_line", (), {}, (), None)
    b = simulator._cached_simulator("myeloma", [btz], "cell_line", (), {}, (), None)
    assert a is not b
    assert a.drugs[0] is thal and b.drugs[0] is btz
    # the same molecule again is served from the cache
    assert simulator._cached_simulator("myeloma", [thal], "cell_line", (), {}, (), None) is a
