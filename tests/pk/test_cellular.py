"""CAR-T cellular kinetics (mmmech.pk.cellular): the Stein 2019 closed form against numerical
integration and its own invariants, the published CARTITUDE-1 facts, the nM-eq mapping and
one-line errors for bad model files."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad, solve_ivp

from mmmech.exceptions import InvalidInputError, ModelFileError, UnknownDrugError
from mmmech.pk import cellular

CILTA = "ciltacabtagene autoleucel"


def test_level_is_continuous_at_tmax_and_peaks_there():
    m = cellular.model(CILTA)
    eps = 1e-9
    assert m.level(m.tmax_d - eps) == pytest.approx(m.cmax, rel=1e-6)
    assert m.level(m.tmax_d + eps) == pytest.approx(m.cmax, rel=1e-6)
    t = np.linspace(0, 400, 4001)
    c = m.level(t)
    assert t[np.argmax(c)] == pytest.approx(m.tmax_d, abs=0.1)
    assert np.all(np.diff(c[t < m.tmax_d]) > 0) and np.all(np.diff(c[t > m.tmax_d]) < 0)
    assert m.level(0.0) == pytest.approx(m.cmax / m.foldx)
    assert m.level(-1.0) == 0.0


def test_closed_form_equals_the_two_pool_ode():
    """Expansion dE/dt = rho E to tmax; then effector pool E' = -alpha E and memory pool
    M' = -beta M with E(tmax) = (1 - fb) Cmax, M(tmax) = fb Cmax; observed E + M."""
    m = cellular.model(CILTA)
    t_eval = np.array([1.0, 5.0, m.tmax_d])
    up = solve_ivp(lambda t, y: [m.rho * y[0]], (0, m.tmax_d), [m.c0], t_eval=t_eval,
                   rtol=1e-10, atol=1e-12)  # fmt: skip
    assert up.y[0] == pytest.approx(m.level(t_eval), rel=1e-7)
    after = np.array([m.tmax_d + 1, 40.0, 150.0, 600.0])
    y0 = [(1 - m.fb) * m.cmax, m.fb * m.cmax]
    down = solve_ivp(
        lambda t, y: [-m.alpha * y[0], -m.beta * y[1]],
        (m.tmax_d, 600.0),
        y0,
        t_eval=after,
        rtol=1e-10,
        atol=1e-12,
    )
    assert down.y.sum(axis=0) == pytest.approx(m.level(after), rel=1e-7)


@settings(max_examples=40, deadline=None)
@given(a=st.floats(0, 300), w=st.floats(0.1, 300))
def test_auc_closed_form_equals_quadrature(a, w):
    m = cellular.model(CILTA)
    numeric, _ = quad(lambda t: m.level(t), a, a + w, points=[m.tmax_d], limit=200)
    assert m.auc(a, a + w) == pytest.approx(numeric, rel=1e-7)


def test_auc_adds_over_windows_and_refuses_reversed_windows():
    m = cellular.model(CILTA)
    assert m.auc(0, 28) == pytest.approx(m.auc(0, 10) + m.auc(10, 28))
    with pytest.raises(InvalidInputError, match="auc"):
        m.auc(28, 0)


CHECKS = [
    (name, i, c) for name in cellular.names() for i, c in enumerate(cellular.model(name).checks)
]


@pytest.mark.parametrize("name, i, check", CHECKS, ids=[f"{n}-{c.metric}" for n, _, c in CHECKS])
def test_model_reproduces_published_cellular_kinetics(name, i, check):
    value = cellular.predict_check(name, check)
    lo, hi = check.band()
    assert (lo <= value <= hi) == (check.expect == "agree"), (name, check.metric, value, lo, hi)


def test_cilta_cel_auc_0_28_is_an_independent_check_near_the_published_mean():
    m = cellular.model(CILTA)
    auc = m.auc(0, 28)
    # the published mean is 504,496 (SD 385,380); the borrowed contraction keeps it inside 1 SD
    assert 119_116 < auc < 889_876
    assert 0.5 < auc / 504_496 < 1.0


def test_nm_equivalent_maps_the_peak_to_the_reference_and_follows_the_course():
    m = cellular.model(CILTA)
    t0 = 48.0  # infusion at hour 48
    times = t0 + 24.0 * np.array([-1.0, 0.0, m.tmax_d, 28.0, 180.0])
    x = cellular.nm_equivalent(CILTA, 9.0, t0, times)
    assert x[0] == 0.0
    assert x[2] == pytest.approx(9.0)
    assert x[1] == pytest.approx(9.0 / m.foldx)
    assert x[2] > x[3] > x[4] > 0
    with pytest.raises(InvalidInputError, match="reference_nM"):
        cellular.nm_equivalent(CILTA, -1.0, t0, times)


def test_unknown_product_suggests_the_close_name():
    with pytest.raises(UnknownDrugError, match="ciltacabtagene autoleucel"):
        cellular.model("ciltacabtagene autoleucell")


_GOOD = """
[[cellular]]
name = "x"
structure = "stein_2019"
source = "DOI:10.1002/psp4.12388"
[cellular.parameters]
cmax = { value = 100, unit = "copies/ug" }
tmax = { value = 10, unit = "day" }
foldx = { value = 100, unit = "1" }
alpha = { value = 0.1, unit = "1/day" }
fb = { value = 0.01, unit = "1" }
beta = { value = 0.01, unit = "1/day" }
"""


def test_a_user_file_reads_and_converts_units():
    m = cellular.read_cellular(_GOOD.replace('"1/day" }\nfb', '"1/h" }\nfb'), "my.toml")["x"]
    assert m.alpha == pytest.approx(2.4)
    assert m.half_lives()[1] == pytest.approx(math.log(2) / 0.01)


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('"stein_2019"', '"gompertz"', "structure"),
        ("fb = { value = 0.01", "fb = { value = 1.5", "fb"),
        ("foldx = { value = 100", "foldx = { value = 0.5", "foldx"),
        ('"copies/ug"', '"cells/uL"', "unit"),
        ("beta = {", "betta = {", "beta"),
        ('"DOI:10.1002/psp4.12388"', '"a paper"', "source"),
    ],
)
def test_bad_files_give_one_line_errors_naming_the_file(old, new, message):
    with pytest.raises(ModelFileError, match=message) as err:
        cellular.read_cellular(_GOOD.replace(old, new), "my.toml")
    assert str(err.value).startswith("my.toml") and "\n" not in str(err.value)


IDE = "idecabtagene vicleucel"


def test_ide_cel_is_a_peak_normalised_course_whose_network_input_is_its_shape():
    """Round 9: ide-cel has its median Tmax (11 days) read, no absolute level, so the course is
    normalised to its peak. The network input depends on C(t)/Cmax only, so a normalised course
    and the same shape scaled to any absolute peak give the same nM-eq."""
    m = cellular.model(IDE)
    assert m.unit == "peak" and m.cmax == 1.0 and m.tmax_d == 11.0
    assert m.level(m.tmax_d) == pytest.approx(1.0)
    t = 24.0 * np.array([0.0, 5.0, 11.0, 28.0, 180.0, 365.0])
    x = cellular.nm_equivalent(IDE, 9.0, 0.0, t)
    scaled = cellular.CellularModel(
        drug="scaled", cmax=2.5e5, tmax_d=m.tmax_d, foldx=m.foldx, alpha=m.alpha, fb=m.fb,
        beta=m.beta, population="", source=m.source, verified=False,
    )  # fmt: skip
    assert cellular.nm_equivalent(scaled, 9.0, 0.0, t) == pytest.approx(x, rel=1e-12)
    assert x[2] == pytest.approx(9.0)
    assert x[2] > x[3] > x[4] > x[5] > 0  # contraction, then persistence up to a year


def test_ide_cel_regimen_uses_the_cellular_course_not_the_24_h_hold():
    from mmmech.dynamics import regimen as _regimen  # deferred: heavy import, one test only

    assert _regimen._cellular(IDE)


_CMAX_CHECK = (
    '[[cellular.check]]\nmetric = "cmax"\nunit = "copies/ug"\n'
    'value = 5\nsd = 1\nsource = "PMID:1"\n'
)


@pytest.mark.parametrize(
    "cmax, extra, message",
    [("2", "", "peak"), ("1", _CMAX_CHECK, "tmax only")],
)
def test_a_peak_normalised_course_refuses_a_peak_other_than_1_or_absolute_checks(
    cmax, extra, message
):
    text = _GOOD.replace('value = 100, unit = "copies/ug"', f'value = {cmax}, unit = "peak"')
    with pytest.raises(ModelFileError, match=message) as err:
        cellular.read_cellular(text + extra, "my.toml")
    assert str(err.value).startswith("my.toml") and "\n" not in str(err.value)
