"""simulate(), schedule(), exposure() and the closed-form metrics."""

import numpy as np
import pytest

from mmmech import pk
from mmmech.exceptions import InvalidInputError, UnitError
from mmmech.pk.engine import Dose


def test_schedule_places_doses_on_cycle_days():
    doses = pk.schedule("1.3 mg/m2", "sc", [1, 4, 8, 11], cycle_days=21, cycles=2, bsa_m2=2.0)
    assert [d.time_h / 24 for d in doses] == [0, 3, 7, 10, 21, 24, 28, 31]
    assert {d.amount_mg for d in doses} == {2.6}
    assert pk.schedule("16 mg/kg", "iv_infusion", [1], duration_h=4, weight_kg=70)[0] == Dose(
        0.0, 1120.0, "iv_infusion", 4.0
    )


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (("1.3 mg/m2", "sc", [1]), {}, "give bsa_m2"),
        (("16 mg/kg", "iv_infusion", [1]), {"duration_h": 1}, "give weight_kg"),
        (("25 mg/day", "oral", [1]), {}, "dose must be mg"),
        (("25 mg", "oral", [0]), {}, "days must be whole days >= 1"),
        (("25 mg", "oral", [1, 22]), {"cycle_days": 21}, "cycle_days must be"),
        (("25 mg", "oral", [1]), {"cycles": 0}, "cycles must be"),
        (("25 mg", "po", [1]), {}, "route must be one of"),
    ],
)
def test_schedule_errors_name_the_argument(args, kwargs, match):
    with pytest.raises((InvalidInputError, UnitError), match=match) as info:
        pk.schedule(*args, **kwargs)
    assert "\n" not in str(info.value) and "schedule()" in str(info.value)


def test_simulate_returns_a_tidy_frame():
    doses = pk.schedule("25 mg", "oral", range(1, 22), cycle_days=28)
    df = pk.simulate("lenalidomide", doses, times=np.arange(0, 48.0, 0.5))
    assert list(df.columns) == ["time_h", "concentration"]
    assert df.attrs["unit"] == "ng/mL" and df.attrs["source"].startswith("DOI:")
    assert df["concentration"].iloc[0] == 0.0
    assert df["concentration"].max() > 100  # hundreds of ng/mL after 25 mg
    # the same in ug/mL is a thousand times smaller
    ug = pk.simulate("lenalidomide", doses, times=np.arange(0, 48.0, 0.5), unit="ug/mL")
    np.testing.assert_allclose(ug["concentration"] * 1000, df["concentration"])


def test_simulate_accepts_tuples_and_fills_nothing_it_should_not():
    df = pk.simulate("ixazomib", [(0.0, 4.0, "oral"), (0.0, 1.0, "iv_infusion", 0.5)])
    assert len(df) == 2001 and df["time_h"].iloc[-1] > 24 * 40  # 5 terminal half-lives
    with pytest.raises(InvalidInputError, match="not covered by the lenalidomide model"):
        pk.simulate("lenalidomide", [(0.0, 25.0, "iv_bolus")])
    with pytest.raises(InvalidInputError, match=r"doses\[0\] is an infusion without duration_h"):
        pk.simulate("daratumumab", [(0.0, 1000.0, "iv_infusion")])
    with pytest.raises(InvalidInputError, match=r"doses\[1\] must be"):
        pk.simulate("ixazomib", [(0.0, 4.0, "oral"), (1.0, 4.0)])
    with pytest.raises(InvalidInputError, match="doses must be a list"):
        pk.simulate("ixazomib", "4 mg")
    with pytest.raises(InvalidInputError, match="times must be"):
        pk.simulate("ixazomib", [(0.0, 4.0, "oral")], times=[-1.0])
    with pytest.raises(UnitError, match="unit must be"):
        pk.simulate("ixazomib", [(0.0, 4.0, "oral")], times=[1.0], unit="mg")


def test_closed_form_and_ode_methods_agree_in_simulate():
    doses = pk.schedule("4 mg", "oral", [1, 8, 15], cycle_days=28)
    t = np.linspace(0, 28 * 24, 113)
    a = pk.simulate("ixazomib", doses, t, method="closed")["concentration"].to_numpy()
    b = pk.simulate("ixazomib", doses, t, method="ode")["concentration"].to_numpy()
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_exposure_metrics_match_their_definitions():
    doses = pk.schedule("4 mg", "oral", [1, 2, 3, 4, 5, 6, 7], cycle_days=7)
    e = pk.exposure("pomalidomide", doses, 144.0, 168.0)
    t = np.linspace(144.0, 168.0, 24001)
    c = pk.concentration("pomalidomide", doses, t)
    assert e["cmax"] == pytest.approx(c.max(), rel=1e-6)
    assert e["tmax"] == pytest.approx(t[c.argmax()] - 144.0, abs=2e-3)
    assert e["cmin"] == pytest.approx(c.min(), rel=1e-6)
    assert e["auc"] == pytest.approx(np.trapezoid(c, t), rel=1e-6)
    # the trough is taken before the dose given at the end of the window
    more = doses + [Dose(168.0, 4.0, "oral")]
    assert pk.exposure("pomalidomide", more, 144.0, 168.0)["trough"] == pytest.approx(c[-1])


def test_accumulation_and_steady_state_match_long_simulation():
    tau = 24.0
    doses = [(i * tau, 4.0, "oral") for i in range(60)]
    ss = pk.exposure("pomalidomide", doses, 59 * tau, 60 * tau, unit="mg/L")
    first = pk.exposure("pomalidomide", doses[:1], 0.0, tau, unit="mg/L")
    assert ss["auc"] / tau == pytest.approx(
        pk.css_average("pomalidomide", 4.0, "oral", tau), rel=1e-6
    )
    assert ss["auc"] / first["auc"] == pytest.approx(
        pk.accumulation_ratio("pomalidomide", "oral", tau), rel=1e-6
    )
    # ixazomib weekly accumulates (terminal t1/2 ~9 days); lenalidomide daily barely does
    assert pk.accumulation_ratio("ixazomib", "oral", 168.0) > 2.0
    assert pk.accumulation_ratio("lenalidomide", "oral", 24.0) < 1.05


def test_unbound_concentration_needs_a_fraction_unbound():
    with pytest.raises(InvalidInputError, match="no fraction unbound is curated for ixazomib"):
        pk.concentration("ixazomib", [(0.0, 4.0, "oral")], [1.0], unbound=True)


def test_unbound_scales_by_fraction_unbound():
    m = pk.read_models(
        '[[drug]]\nname = "toy"\ncompartments = 1\nroutes = ["iv_bolus"]\npopulation = "p"\n'
        'disease = "d"\nn_subjects = 1\nsource = "PMID:1"\nverified = true\n'
        'fraction_unbound = { value = 0.25, source = "PMID:1" }\n[drug.parameters]\n'
        'cl = { value = 1.0, unit = "L/h" }\nv1 = { value = 10.0, unit = "L" }\n'
    )["toy"]
    df = pk.simulate(m, [(0.0, 10.0, "iv_bolus")], times=[0.0, 1.0])
    np.testing.assert_allclose(df["unbound_concentration"], 0.25 * df["concentration"])
    assert df["concentration"].iloc[0] == pytest.approx(1000.0)  # 10 mg / 10 L = 1000 ng/mL
    e = pk.exposure(m, [(0.0, 10.0, "iv_bolus")], 0.0, 1.0, unbound=True)
    assert e["cmax"] == pytest.approx(250.0)


def test_daratumumab_uses_the_ode_and_saturation_lowers_clearance_with_dose():
    """Target-mediated clearance saturates: dose-normalised AUC rises with dose."""
    lo = pk.auc("daratumumab", [(0.0, 78.6, "iv_infusion", 2.0)], 0.0, 20000.0)
    hi = pk.auc("daratumumab", [(0.0, 1257.6, "iv_infusion", 2.0)], 0.0, 20000.0)
    assert hi / 1257.6 > 1.5 * lo / 78.6


def test_molar_units_use_the_library_molecular_weight():
    from mmmech import drugs

    mw = drugs.get("lenalidomide").mol_weight
    ng = pk.concentration("lenalidomide", [(0.0, 25.0, "oral")], [1.0, 2.0])
    nm = pk.concentration("lenalidomide", [(0.0, 25.0, "oral")], [1.0, 2.0], unit="nM")
    np.testing.assert_allclose(nm, ng / mw * 1e3)  # ng/mL -> nM: x 1e3 / MW


def test_ixazomib_and_bortezomib_dosed_as_labelled_give_different_courses():
    """Issue 16: weekly oral ixazomib (t1/2 ~9 days) accumulates and stays near its peak between
    doses; twice-weekly IV bortezomib spikes and falls by orders of magnitude between doses."""
    ixa = pk.schedule("4 mg", "oral", [1, 8, 15], cycle_days=28)
    btz = pk.schedule("1.3 mg/m2", "iv_bolus", [1, 4, 8, 11], cycle_days=21, bsa_m2=1.8)
    e_ixa = pk.exposure("ixazomib", ixa, 14 * 24.0, 21 * 24.0)
    e_btz = pk.exposure(pk.model("bortezomib", bsa_m2=1.8), btz, 7 * 24.0, 10 * 24.0)
    assert e_ixa["cmax"] / e_ixa["trough"] < 20
    assert e_btz["cmax"] / e_btz["trough"] > 50
    assert e_ixa["tmax"] > 0.5 and e_btz["tmax"] == 0.0  # oral absorption vs IV bolus
