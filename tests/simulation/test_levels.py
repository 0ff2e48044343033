"""Node levels a drug still acts on, composed contexts, and the patient contexts' effects."""

import warnings

import numpy as np
import pytest

from mmmech.exceptions import InvalidInputError, MutationError, UnknownNodeError
from mmmech.simulation import Simulator, simulate
from mmmech.simulation.simulator import _source_key


def _run(drugs, conc, **kw):
    sim = Simulator("myeloma", drugs, **kw)
    return sim.run(np.asarray(conc, dtype=float), backend="python")


def test_a_level_keeps_the_node_dynamic_a_setting_fixes_it():
    # venetoclax (K 0.01 nM, fraction unbound 0.01) at 0 and 1 nM total: half occupancy;
    # BCL2Basal (genotype-set expression, 0.6) feeds BCL2 through an identity edge
    lv = _run(["venetoclax"], [[0.0], [1.0]], levels={"BCL2Basal": 1.5})
    assert lv.node("BCL2")[0] == pytest.approx(0.9)  # 0.6 x 1.5
    assert lv.node("BCL2")[1] == pytest.approx(0.45)  # venetoclax still inhibits it
    fixed = _run(["venetoclax"], [[0.0], [1.0]], settings={"BCL2": 0.9})
    assert fixed.node("BCL2")[1] == pytest.approx(0.9)  # a fixed node overrides the drug


def test_a_level_below_one_also_caps_an_agonist():
    # dexamethasone is an agonist of NR3C1 (held at 0 untreated): the level is its ceiling
    full = _run(["dexamethasone"], [[1e6]])
    half = _run(["dexamethasone"], [[1e6]], levels={"NR3C1": 0.5})
    assert full.node("NR3C1")[0] > 0.99 and half.node("NR3C1")[0] == pytest.approx(0.5, abs=0.01)


def test_levels_of_held_and_ruled_nodes():
    # CD38Expression: held input (baseline 0.8); IRF4: a node with a rule
    out = simulate("myeloma", {}, levels={"CD38Expression": 0.25, "IRF4": 0.5, "MCL1Basal": 1.2})
    assert out["nodes"]["CD38Expression"] == pytest.approx(0.2)
    assert out["nodes"]["MCL1Basal"] == pytest.approx(0.84)
    assert out["nodes"]["IRF4"] <= 0.5 + 1e-9
    assert out["levels"] == {"CD38Expression": 0.25, "IRF4": 0.5, "MCL1Basal": 1.2}


def test_a_level_above_the_ceiling_is_a_one_line_error():
    with pytest.raises(InvalidInputError) as exc:
        Simulator("myeloma", ["venetoclax"], levels={"BCL2Basal": 2.0})
    msg = str(exc.value)
    assert "\n" not in msg and "BCL2Basal" in msg and "0.6" in msg and "1.666" in msg
    with pytest.raises(InvalidInputError, match=r"IRF4.*ceiling ymax 1.*largest level .* is 1"):
        simulate("myeloma", {}, levels={"IRF4": 1.1})
    with pytest.raises(UnknownNodeError, match="did you mean 'BCL2'"):
        simulate("myeloma", {}, levels={"BCL22": 1.0})
    with pytest.raises(InvalidInputError, match="finite and >= 0"):
        simulate("myeloma", {}, levels={"BCL2": -1})
    with pytest.raises(InvalidInputError, match="mapping"):
        simulate("myeloma", {}, levels=[("BCL2", 1.0)])


def test_a_level_on_a_fixed_node_is_noted_not_applied():
    out = simulate("myeloma", {}, settings={"BCL2Basal": 0.3}, levels={"BCL2Basal": 1.5})
    assert out["nodes"]["BCL2Basal"] == pytest.approx(0.3)
    assert any("level of BCL2Basal has no effect" in n for n in out["notes"])


def test_composed_context_equals_its_parts_in_order():
    a = simulate("myeloma", {"venetoclax": 0.01}, context=["marrow", "t11_14"])
    b = simulate("myeloma", {"venetoclax": 0.01}, context="marrow+t11_14")
    assert a["context"] == "marrow+t11_14" and a["readouts"] == b["readouts"]
    assert a["levels"] == {"BCL2Basal": 1.6, "MCL1Basal": 0.8, "BCL2L1": 0.3, "GRBasal": 0.5}
    # later wins: cell_line after marrow removes the effector cells again
    c = simulate("myeloma", {}, context=["marrow", "cell_line"])
    assert c["nodes"]["NKCells"] == 0.0
    assert c["readouts"] == simulate("myeloma", {}, context="cell_line")["readouts"]


def test_lists_of_contexts_key_the_simulator_cache_by_value():
    assert _source_key(["marrow", "t11_14"]) == _source_key(["marrow", "t11_14"])
    assert _source_key(["marrow", "t11_14"]) != _source_key(["t11_14", "marrow"])


def test_t11_14_makes_venetoclax_stronger_and_dexamethasone_weaker():
    def drop(ctx, reg):
        base = simulate("myeloma", {}, context=ctx)["readouts"]["viability"]
        return base - simulate("myeloma", reg, context=ctx)["readouts"]["viability"]

    t = ["cell_line", "t11_14"]
    # venetoclax 1 nM total: half occupancy of BCL2 (K 0.01 nM, fraction unbound 0.01)
    assert drop(t, {"venetoclax": 1.0}) > drop("cell_line", {"venetoclax": 1.0})
    assert drop(t, {"dexamethasone": 1000.0}) < drop("cell_line", {"dexamethasone": 1000.0})


def test_crbn_low_weakens_lenalidomide_degradation_of_ikzf1():
    wt = simulate("myeloma", {"lenalidomide": 3000.0}, context="cell_line")
    low = simulate("myeloma", {"lenalidomide": 3000.0}, context=["cell_line", "crbn_low"])
    assert low["nodes"]["IKZF1"] > wt["nodes"]["IKZF1"] + 0.1
    assert low["readouts"]["viability"] > wt["readouts"]["viability"]


def test_bcma_loss_abolishes_teclistamab_t_cell_killing_in_marrow():
    wt = simulate("myeloma", {"teclistamab": 1.7}, context="marrow")
    lost = simulate("myeloma", {"teclistamab": 1.7}, context=["marrow", "bcma_loss"])
    assert wt["nodes"]["TCellKilling"] > 0.5
    assert lost["nodes"]["TCellKilling"] == pytest.approx(0.0, abs=1e-9)
    # BCMA loss also removes APRIL -> BCMA survival signalling: compare in the same context
    untreated = simulate("myeloma", {}, context=["marrow", "bcma_loss"])["readouts"]["viability"]
    assert lost["readouts"]["viability"] == pytest.approx(untreated, abs=1e-6)


def test_gprc5d_loss_abolishes_talquetamab_but_not_teclistamab():
    def killing(drug, ctx):
        return simulate("myeloma", {drug: 1.7}, context=ctx)["nodes"]["TCellKilling"]

    lost = ["marrow", "gprc5d_loss"]
    assert killing("talquetamab", "marrow") > 0.5
    assert killing("talquetamab", lost) == pytest.approx(0.0, abs=1e-9)
    assert killing("teclistamab", lost) > 0.5


def test_cd38_loss_weakens_daratumumab_in_marrow():
    wt = simulate("myeloma", {"daratumumab": 2700.0}, context="marrow")
    low = simulate("myeloma", {"daratumumab": 2700.0}, context=["marrow", "cd38_loss"])
    assert low["readouts"]["viability"] > wt["readouts"]["viability"] + 0.1


def test_ikzf1_degron_spares_ikzf1_from_pomalidomide_only_in_the_myeloma_cell():
    wt = simulate("myeloma", {"pomalidomide": 1000.0}, context="cell_line")
    mut = simulate("myeloma", {"pomalidomide": 1000.0}, context=["cell_line", "ikzf1_degron"])
    assert wt["nodes"]["IKZF1"] < 0.9
    assert mut["nodes"]["IKZF1"] == pytest.approx(1.0)
    assert mut["nodes"]["IKZF3"] == pytest.approx(wt["nodes"]["IKZF3"])  # IKZF3 still degraded
    assert mut["nodes"]["TCellIkaros"] == pytest.approx(wt["nodes"]["TCellIkaros"])
    assert any("IKZF1 is not degraded" in n for n in mut["notes"])


def test_a_finite_degron_fold_shifts_only_that_substrate():
    sim = Simulator("myeloma", ["pomalidomide"], mutations=["IKZF1 Q146H x10"])
    res = sim.run(np.array([[3000.0]]), backend="python")
    k = {c["node"]: c["K"] for c in sim.columns}
    assert k["drug_pomalidomide__CRBN_IKZF1"] == pytest.approx(10 * k["drug_pomalidomide__CRBN"])
    assert res.node("IKZF1")[0] > res.node("IKZF3")[0]


def test_psmb5_mutant_weakens_bortezomib():
    # 20 nM: below the reference Cmax, where the x16.6 potency shift shows (at the Cmax both die)
    wt = simulate("myeloma", {"bortezomib": 20.0}, context="cell_line")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mut = simulate("myeloma", {"bortezomib": 20.0}, context=["cell_line", "psmb5_mutant"])
    assert mut["readouts"]["viability"] > wt["readouts"]["viability"] + 0.1


def test_mutation_in_the_other_numbering_is_an_error_not_wild_type():
    with pytest.raises(MutationError) as exc:
        Simulator("myeloma", ["bortezomib"], mutations=["PSMB5 A108T"])
    msg = str(exc.value)
    assert "precursor A108T is the documented mature A49T" in msg
    assert "'PSMB5 A49T'" in msg and "--scheme precursor" in msg and "\n" not in msg
    # the same mutation named in its scheme, and a genuinely undocumented variant, still run
    Simulator("myeloma", ["bortezomib"], mutations=["PSMB5 A108T precursor"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Simulator("myeloma", ["bortezomib"], mutations=["PSMB5 A50V"])


def test_score_and_screen_pass_composed_contexts_and_levels_through(tmp_path):
    import mmmech

    res = mmmech.score(
        ["venetoclax", "dexamethasone"],
        context=["cell_line", "t11_14"],
        points=3,
        metrics="bliss",
        levels={"CD38": 0.5},
    )
    assert res.context == "cell_line+t11_14"
    df = mmmech.screen(
        ["venetoclax", "dexamethasone"],
        size=2,
        contexts=["cell_line", ["cell_line", "t11_14"]],
        out=str(tmp_path / "s.csv"),
        points=3,
        progress=False,
    )
    assert list(df["context"]) == ["cell_line", "cell_line+t11_14"]
    row = df[df["context"] == "cell_line+t11_14"].iloc[0]
    assert row["bliss"] == pytest.approx(
        mmmech.score(
            ["venetoclax", "dexamethasone"], context="cell_line+t11_14", points=3, metrics="bliss"
        ).scores["bliss"]
    )
    levels = dict(df.attrs["config"]["contexts"][1]["levels"])
    assert levels == {"BCL2Basal": 1.6, "MCL1Basal": 0.8, "BCL2L1": 0.3, "GRBasal": 0.5}
