"""mmmech.network.draw: pictures are checked as images (PNG header, size, pixels), not just
produced."""

import struct

import networkx as nx
import numpy as np
import pytest
from _helpers import assert_one_line_error
from hypothesis import given, settings
from hypothesis import strategies as st

from mmmech.exceptions import InvalidInputError, UnknownNodeError
from mmmech.model import simulate
from mmmech.network import draw as mdraw
from mmmech.network import io as ix
from mmmech.pathways import load

pytestmark = pytest.mark.filterwarnings("ignore::mmmech.network.io.DefaultRulesWarning")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, "not a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def read_rgb(path):
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    return img[..., :3]


def test_bundled_model_under_bortezomib_is_a_readable_png(tmp_path):
    out = tmp_path / "btz.png"
    info = mdraw.draw("myeloma", regimen={"bortezomib": 10.0}, out=out)
    w, h = png_size(out)
    assert 1200 <= w <= 6000 and 800 <= h <= 5000
    img = read_rgb(out)
    assert img.shape[:2] == (h, w)
    # mostly white background, but a real drawing: many non-white pixels and the drug's orange
    nonwhite = (img < 0.95).any(axis=2).mean()
    assert 0.03 < nonwhite < 0.6
    orange = (np.abs(img - np.array([0xF3, 0x9C, 0x34]) / 255.0) < 0.04).all(axis=2).sum()
    assert orange > 500
    # colours follow the simulation: the picture's changes are simulate()'s
    untreated = simulate("myeloma", {}, context="cell_line")["nodes"]
    treated = simulate("myeloma", {"bortezomib": 10.0}, context="cell_line")["nodes"]
    for node in ("Proteasome", "PMAIP1", "Viability"):
        assert info.changes[node] == pytest.approx(treated[node] - untreated[node], abs=1e-6)
    assert info.changes["Proteasome"] < -0.1
    assert info.readouts["viability"][1] < info.readouts["viability"][0]
    assert [p.name for p in tmp_path.iterdir()] == ["btz.png"]  # no temporary left over


def test_plain_drawing_has_no_drug_and_svg_works(tmp_path):
    out = tmp_path / "m.svg"
    info = mdraw.draw("myeloma", out=out)
    text = out.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert info.nodes == len(load("myeloma").nodes)
    assert info.changes is None and info.readouts is None
    assert "Proteasome" in text and "bortezomib" not in text


def test_large_network_needs_focus_and_draws_a_neighbourhood(tmp_path):
    edges = [(f"N{i}", f"N{(i * 7 + 3) % 400}", 1 if i % 3 else -1) for i in range(400)]
    big = ix.build_network("big", [f"N{i}" for i in range(400)], edges, warn=False)
    with pytest.raises(InvalidInputError, match="--focus"):
        mdraw.draw(big, out=tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    info = mdraw.draw(big, focus=["N1"], radius=3, max_nodes=25, out=tmp_path / "f.png")
    assert info.nodes <= 25 and info.total_nodes == 400
    w, h = png_size(tmp_path / "f.png")
    assert w > 600 and h > 400
    with pytest.raises(UnknownNodeError, match="did you mean"):
        mdraw.draw(big, focus=["N1x"], out=tmp_path / "y.png")


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 30),
    m=st.integers(0, 60),
    radius=st.integers(0, 3),
    seed=st.integers(0, 10_000),
)
def test_neighbourhood_matches_networkx_ego_graph(n, m, radius, seed):
    rng = np.random.default_rng(seed)
    labels = [f"V{i}" for i in range(n)]
    edges = {(labels[a], labels[b]): 1 for a, b in rng.integers(0, n, size=(m, 2))}
    net = ix.build_network("g", labels, [(s, t, 1) for s, t in edges], warn=False)
    focus = [labels[0]]
    got, total = mdraw.neighbourhood(net, focus, radius, max_nodes=10_000)
    g = nx.Graph()
    g.add_nodes_from(labels)
    g.add_edges_from(edges)
    want = set(nx.ego_graph(g, labels[0], radius=radius))
    assert set(got) == want and total == len(want)
    assert got[0] == labels[0]
    capped, total2 = mdraw.neighbourhood(net, focus, radius, max_nodes=3)
    assert len(capped) == min(3, len(want)) and total2 == len(want)
    dist = nx.single_source_shortest_path_length(g, labels[0])
    assert sorted(dist[c] for c in capped) == sorted(dist[x] for x in want)[: len(capped)]


def test_imported_model_with_settings_is_coloured_by_change(tmp_path):
    m = ix.loads("P, !D\nS, (S | !P) & !C\nA, S\nC, C\nD, D\n", "bnet", origin="toy.bnet")
    m = ix.with_initial(m, {"P": 1.0})
    info = mdraw.draw(m, settings={"D": 1.0}, out=tmp_path / "toy.png")
    assert info.changes["P"] < -0.9 and info.changes["A"] > 0.9
    assert png_size(tmp_path / "toy.png")[0] > 600
    with pytest.raises(InvalidInputError, match="no drug actions"):
        mdraw.draw(m, regimen={"bortezomib": 10.0}, out=tmp_path / "no.png")


def test_bad_output_names_are_refused(tmp_path):
    with pytest.raises(InvalidInputError, match=r"\.png"):
        mdraw.draw("myeloma", out=tmp_path / "m.jpg")
    with pytest.raises(InvalidInputError, match="does not exist"):
        mdraw.draw("myeloma", out=tmp_path / "nope" / "m.png")


def test_draw_cli(run_cli, tmp_path):
    out = tmp_path / "cli.png"
    p = run_cli("pathway", "draw", "--regimen", "bortezomib=10nM", "--out", out)
    assert p.returncode == 0, p.stderr
    assert "wrote" in p.stdout and "viability" in p.stdout
    w, h = png_size(out)
    assert w > 1000 and h > 700
    p = run_cli("pathway", "draw", "--regimen", "bortezomib=10", "--out", tmp_path / "x.png")
    assert_one_line_error(p, "unit")
    p = run_cli("pathway", "draw", "--focus", "Proteasom", "--out", tmp_path / "x.png")
    assert_one_line_error(p, "Proteasom", "did you mean")
    assert not (tmp_path / "x.png").exists()


def test_kegg_map_draws_a_neighbourhood(shared_data, tmp_path):
    m = ix.read(shared_data / "networks" / "kegg_hsa04064_nfkb.kgml.xml")
    info = mdraw.draw(m, focus=["NFKBIA"], radius=2, out=tmp_path / "kegg.png")
    assert info.nodes > 10
    w, h = png_size(tmp_path / "kegg.png")
    assert w > 600 and h > 600


def test_draw_returns_a_record_whose_json_leaves_the_figure_out():
    info = mdraw.draw("myeloma", regimen={"bortezomib": 10.0})
    assert isinstance(info, mdraw.DrawResult) and info.out is None
    assert info.figure is not None and hasattr(info.figure, "savefig")
    doc = info.to_dict()
    assert "figure" not in doc and doc["nodes"] == info.nodes
    assert doc["changes"] == info.changes and doc["readouts"]["viability"] == list(
        info.readouts["viability"]
    )
    with pytest.warns(DeprecationWarning):
        assert info["nodes"] == info.nodes
