"""Cached models and contexts are shared by every caller in a process: their mappings are
read-only (issue: mutating ``load_context("marrow").settings`` changed every later simulation)."""

import copy
import pickle

import pytest

import mmmech
from mmmech.network import load_context


def test_context_settings_cannot_be_changed_and_simulations_stay_the_same():
    before = mmmech.simulate("myeloma", {"bortezomib": 10.0}, context="marrow")["readouts"]
    ctx = load_context("marrow")
    key = next(iter(ctx.settings))
    with pytest.raises(TypeError, match="read-only"):
        ctx.settings[key] = 0.0
    with pytest.raises(TypeError, match="read-only"):
        ctx.settings.update({key: 0.0})
    with pytest.raises(TypeError, match="read-only"):
        del ctx.settings[key]
    assert load_context("marrow") is ctx
    after = mmmech.simulate("myeloma", {"bortezomib": 10.0}, context="marrow")["readouts"]
    assert after == before


@pytest.mark.parametrize("attr", ["nodes", "readouts", "parameters", "actions", "source_titles"])
def test_model_mappings_are_read_only(attr):
    model = mmmech.pathways.load("myeloma")
    mapping = getattr(model, attr)
    with pytest.raises(TypeError, match="read-only"):
        mapping["x"] = None
    with pytest.raises(TypeError, match="read-only"):
        mapping.pop(next(iter(mapping)))


def test_nested_action_tables_are_read_only_too():
    model = mmmech.pathways.load("myeloma")
    action = next(iter(model.actions.values()))
    with pytest.raises(TypeError, match="read-only"):
        action["x"] = 1


def test_read_only_mappings_pickle_copy_and_still_edit_as_copies():
    model = mmmech.pathways.load("myeloma")
    again = pickle.loads(pickle.dumps(model))  # Dask ships models to workers
    assert dict(again.readouts) == dict(model.readouts)
    with pytest.raises(TypeError):
        again.readouts["x"] = "y"
    assert copy.deepcopy(model.readouts) == model.readouts
    editable = dict(model.readouts)
    editable["x"] = "y"
    assert "x" not in model.readouts
