"""The toxicity batch's per-patient drivers computed for all patients at once equal, bit for bit,
what each patient's own closure gives (differential): concentrations, the neutrophil effect and
the platelet drivers, for patients with their own PK models (etas), different dose histories
(a held dose, a reduced one, a single dose, none) and doses off the grid (the direct path)."""

import numpy as np

from mmmech import pk
from mmmech.toxicity import myelosuppression as ms
from mmmech.toxicity import platelets as plt


def _doses(days, mg, route="oral"):
    return [(24.0 * (d - 1), float(mg), route) for d in days]


def _patients():
    """(models, doses by drug, sensitivity) of six patients."""
    full_len = _doses(range(1, 22), 25.0)
    full_btz = _doses([1, 4, 8, 11], 2.34, "sc") + _doses([22, 25, 29, 32], 2.34, "sc")
    out = []
    for j in range(6):
        etas = pk.patient_etas("ndmm", j, 3, ["lenalidomide", "bortezomib"])
        models = {d: pk.with_etas(pk.model(d), e) for d, e in etas.items()}
        lena = list(full_len)
        btz = list(full_btz)
        if j == 1:
            lena = [d for d in lena if d[0] != 24.0 * 4]  # a held dose
        if j == 2:
            lena = [(t, 15.0, r) for t, _, r in lena]  # a reduced dose
            btz = btz[:1]  # one dose: the direct path
        if j == 3:
            btz = []  # no bortezomib
        if j == 4:
            lena = [(t + 1.234, a, r) for t, a, r in lena]  # off the grid: the direct path
        if j == 5:
            models = {}  # the typical patient (drug names, shared caches)
        out.append((models, {"lenalidomide": lena, "bortezomib": btz}, [1.0, 0.5, 2.0][j % 3]))
    return out


def _grid(c0, days=28, dt=2.0, sub=12):
    n = int(days * 24 / dt)
    return c0 + np.arange(n * sub + 1) * (dt / sub)


def test_concentration_batch_equals_each_patient():
    pts = _patients()
    for c0 in (0.0, 24.0 * 28):
        t = _grid(c0)
        for drug in ("lenalidomide", "bortezomib"):
            drugs = [m.get(drug, drug) for m, _, _ in pts]
            doses = [d[drug] for _, d, _ in pts]
            got = ms.concentration_mg_l_batch(drugs, doses, t, [{} for _ in pts])
            for i in range(len(pts)):
                want = ms.concentration_mg_l(drugs[i], doses[i], t, {})
                assert np.array_equal(got[i], want), (drug, i)


def test_neutrophil_effect_batch_equals_linear_effect():
    pts = _patients()
    caches_a = [{} for _ in pts]
    caches_b = [{} for _ in pts]
    for c0 in (0.0, 24.0 * 28, 24.0 * 56):  # the caches carried from cycle to cycle
        t = _grid(c0)
        by_drug = [{"lenalidomide": d["lenalidomide"]} for _, d, _ in pts]
        e = ms.linear_effect_batch(
            by_drug,
            models=[m for m, _, _ in pts],
            slope_scale=[s for _, _, s in pts],
            caches=caches_a,
        )(t)
        assert e.shape == (t.size, len(pts))
        for i, (m, _, s) in enumerate(pts):
            one = ms.linear_effect(by_drug[i], models=m, slope_scale=s, cache=caches_b[i])(t)
            assert np.array_equal(e[:, i], one), i


def test_platelet_drivers_batch_equals_drivers():
    pts = _patients()
    t = _grid(24.0 * 21)
    by_drug = [d for _, d, _ in pts]
    values, coef = plt.drivers_batch(by_drug, [m for m, _, _ in pts], [{} for _ in pts])
    v = values(t)
    assert v.shape == (t.size, 2, len(pts))
    for i, (m, d, _) in enumerate(pts):
        one_values, one_coef = plt.drivers(d, models=m, cache={})
        assert np.array_equal(v[:, :, i], one_values(t)), i
        assert coef[i] == one_coef


def test_kpd_batch_equals_kpd():
    pts = _patients()
    t = _grid(24.0 * 10)
    doses = [d["lenalidomide"] for _, d, _ in pts]
    got = plt._kpd_batch(doses, 0.05, t)
    for i, d in enumerate(doses):
        assert np.array_equal(got[i], plt._kpd(d, 0.05, t)), i
