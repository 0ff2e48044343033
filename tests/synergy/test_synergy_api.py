"""Issue 12 for the synergy layer: one figure writer, one ``to_dict(matrices=...)`` default,
batch scores as a record, one backend check."""

import json

import numpy as np
import pytest

from mmmech import _figures
from mmmech._results import MATRICES_DEFAULT, Result
from mmmech.exceptions import InvalidInputError
from mmmech.synergy import score_blocks, score_surface
from mmmech.synergy._core import BatchScores, score_batch

D1, D2 = np.array([0, 1, 3, 10, 30.0]), np.array([0, 2, 6, 20, 60.0])


def _surface():
    y1, y2 = 100 * D1 / (D1 + 5), 100 * D2 / (D2 + 10)
    bliss = 100 * (1 - (1 - y1[:, None] / 100) * (1 - y2[None, :] / 100))
    bump = np.zeros_like(bliss)
    bump[2:4, 2:4] = 8.0
    return np.clip(bliss + bump, 0, 100)


@pytest.fixture(scope="module")
def result():
    return score_surface([D1, D2], _surface(), drugs=("bortezomib", "lenalidomide"))


# ---------------------------------------------------------------- one way to save a figure
@pytest.fixture
def pyplot_figures():
    plt = pytest.importorskip("matplotlib.pyplot")
    return plt.get_fignums


def test_synergy_map_and_draw_save_through_the_one_writer(result, tmp_path, monkeypatch):
    from mmmech.network import draw as mdraw
    from mmmech.synergy.plot import synergy_map

    calls = []
    real = _figures.save_figure

    def spy(fig, path, *args, **kwargs):
        calls.append((type(fig).__name__, kwargs.get("func")))
        return real(fig, path, *args, **kwargs)

    monkeypatch.setattr(_figures, "save_figure", spy)
    synergy_map(result, tmp_path / "map.png")
    mdraw.draw("myeloma", out=tmp_path / "net.png")
    assert calls == [("Figure", "synergy_map"), ("Figure", "draw")]
    assert (tmp_path / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "net.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("ext, magic", [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_synergy_maps_in_every_format_leave_pyplot_alone(
    result, tmp_path, pyplot_figures, ext, magic
):
    from mmmech.synergy.plot import synergy_map

    before = list(pyplot_figures())
    out = synergy_map(result, tmp_path / f"m.{ext}", metric="bliss")
    assert out == str(tmp_path / f"m.{ext}")
    assert (tmp_path / f"m.{ext}").read_bytes().startswith(magic)
    assert pyplot_figures() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"m.{ext}"]  # nothing left behind


def test_draw_leaves_pyplot_alone(tmp_path, pyplot_figures):
    from mmmech.network import draw as mdraw

    before = list(pyplot_figures())
    info = mdraw.draw("myeloma", out=tmp_path / "m.svg")
    assert (tmp_path / "m.svg").read_bytes().startswith(b"<?xml") and info.figure is None
    assert pyplot_figures() == before


@pytest.mark.parametrize("call", ["map", "draw", "save"])
def test_a_bad_extension_is_refused_in_one_line_before_drawing(result, tmp_path, call, monkeypatch):
    from mmmech.network import draw as mdraw
    from mmmech.synergy.plot import synergy_map

    monkeypatch.setattr(_figures, "new_figure", lambda *a, **k: pytest.fail("drew anyway"))
    out = tmp_path / "m.gif"
    with pytest.raises(InvalidInputError) as exc:
        if call == "map":
            synergy_map(result, out)
        elif call == "draw":
            mdraw.draw("myeloma", out=out)
        else:
            _figures.save_figure(object(), out)
    msg = str(exc.value)
    assert "\n" not in msg and "m.gif" in msg and ".png, .svg or .pdf" in msg
    assert msg.startswith(
        {"map": "synergy_map(): path", "draw": "draw(): out", "save": "save_figure(): path"}[call]
    )
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------- one to_dict(matrices=...) default
def test_synergy_result_shares_the_matrices_default(result):
    assert MATRICES_DEFAULT is False and isinstance(result, Result)
    grids = {"response", "matrices", "references", "zip_fit"}
    plain = json.loads(json.dumps(result.to_dict()))
    assert not grids & set(plain) and plain == result.to_dict(matrices=MATRICES_DEFAULT)
    full = json.loads(json.dumps(result.to_dict(matrices=True)))
    assert grids <= set(full)
    assert np.allclose(full["matrices"]["zip"], result.matrices["zip"])
    assert {k: v for k, v in full.items() if k not in grids} == plain


# ------------------------------------------------------------- batch scores are a record
def test_score_batch_returns_a_frozen_record():
    R = np.stack([_surface(), _surface() * 0.9])
    out = score_batch([D1, D2], R, ("bliss", "zip"))
    assert isinstance(out, BatchScores) and isinstance(out, Result)
    assert out.summary["bliss"].shape == (2,) and out.deltas["zip"].shape == (2, 5, 5)
    assert out.boot_summary is None and out.fit == "synergyfinder" and len(out.mono) == 2
    with pytest.raises(AttributeError):
        out.summary = {}  # frozen
    d = json.loads(json.dumps(out.to_dict()))
    assert d["doses"] == [D1.tolist(), D2.tolist()]
    assert d["summary"]["bliss"] == pytest.approx(out.summary["bliss"].tolist())
    assert not {"deltas", "references", "zip_fit", "grid"} & set(d)
    full = out.to_dict(matrices=True)
    assert np.allclose(full["deltas"]["zip"], out.deltas["zip"]) and "grid" not in full
    # the 0.1 mapping access still answers, with a DeprecationWarning
    with pytest.warns(DeprecationWarning, match=r"\.summary"):
        assert out["summary"] is out.summary


def test_synergyfinder_bootstrap_scores_keep_the_plate_summaries():
    import pandas as pd

    rng = np.random.default_rng(3)
    base = _surface()
    rows = [
        (1, "a", "b", c1, c2, base[i, j] + rng.normal(0, 2), "nM")
        for i, c1 in enumerate(D1)
        for j, c2 in enumerate(D2)
        for _ in range(2)
    ]
    df = pd.DataFrame(
        rows, columns=["block_id", "drug1", "drug2", "conc1", "conc2", "response", "conc_unit"]
    )
    ((_, r),) = score_blocks(df, response="inhibition", metrics="bliss")
    assert r.replicates_treatment == "synergyfinder-bootstrap" and r.n_boot == 10
    lo, hi = r.intervals["bliss"]
    assert lo < hi and np.isfinite(r.scores["bliss"])
    ((_, m),) = score_blocks(
        df, response="inhibition", metrics="bliss", replicates="mean", n_boot=20
    )
    assert m.n_boot == 20 and m.intervals["bliss"][0] < m.intervals["bliss"][1]


# -------------------------------------------------------------------- one backend check
def _compiled():
    from mmmech.simulation.compiled import compile_rules

    return compile_rules(["A", "B"], {"B": ("var", "A")})


def _cases():
    import scipy.sparse as sp

    from mmmech.simulation import diffusion, occupancy, propagate
    from mmmech.synergy import fit_loglogistic_batch

    A = sp.csr_array(np.array([[0.0, -1.0], [0.0, 0.0]]))
    x = np.array([0, 1, 3, 10, 30.0])
    return [
        ("occupancy", lambda b: occupancy.occupancy([[1.0]], [10.0], backend=b)),
        ("steady_state", lambda b: propagate.steady_state(_compiled(), backend=b)),
        ("time_course", lambda b: propagate.time_course(_compiled(), [0.0, 1.0], backend=b)),
        ("integrate_fixed", lambda b: propagate.integrate_fixed(_compiled(), 0.1, 3, backend=b)),
        ("diffuse", lambda b: diffusion.diffuse(A, [1.0, 0.0], backend=b)),
        (
            "fit_loglogistic_batch",
            lambda b: fit_loglogistic_batch(x, [100 * x / (x + 3)], backend=b),
        ),
    ]


@pytest.mark.parametrize("name", [n for n, _ in _cases()])
def test_every_backend_argument_is_checked_by_the_one_guard(name):
    call = dict(_cases())[name]
    call("python")  # the arguments are otherwise valid
    with pytest.raises(InvalidInputError) as exc:
        call("gpu")
    assert str(exc.value) == (f"{name}(): backend must be 'auto', 'cython' or 'python', got 'gpu'")
    with pytest.raises(InvalidInputError, match="did you mean 'python'"):
        call("pyton")
