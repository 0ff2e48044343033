"""The layer order of mmmech is true: no module imports a higher layer, no import cycle, and every
import inside a function says why it is deferred (only to keep ``import mmmech`` fast).

The modules are read as source with :mod:`ast` (nothing is imported), so the test sees imports
inside functions too.
"""

import ast
import pathlib

import networkx as nx
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "mmmech"

# lower number = lower layer; a module may import its own layer or lower ones
LAYERS = [
    ("mmmech.exceptions", 0),
    ("mmmech._readonly", 0),
    ("mmmech.sources", 0),
    ("mmmech._typing", 0),
    ("mmmech._results", 0),
    ("mmmech._guards", 1),
    ("mmmech._figures", 1),
    ("mmmech.units", 1),
    ("mmmech.utils", 1),
    ("mmmech.resources", 1),
    ("mmmech._kernels", 2),
    ("mmmech.drugs", 3),
    ("mmmech.pk", 3.5),  # pharmacokinetics: after drugs, before structures
    ("mmmech.regimens", 3.5),  # regimens name library drugs; nothing below drugs needs them
    ("mmmech.populations", 3.6),  # virtual patients: bodies for regimen dosing, context names
    ("mmmech.toxicity", 3.7),  # myelosuppression, neuropathy, renal dosing: pk + regimens only
    ("mmmech.structures", 4),
    ("mmmech.network", 5),
    ("mmmech.pathways", 5),
    ("mmmech.simulation", 6),
    ("mmmech.model", 6),
    ("mmmech.testing", 6),
    ("mmmech.dynamics", 6.5),  # regimens in time: pk + regimens + simulation; before synergy
    ("mmmech.synergy", 7),
    ("mmmech.scoring", 8),
    ("mmmech.screening", 9),
    ("mmmech.validation", 9),
    ("mmmech.ranking", 9.7),  # one patient, many regimens: dynamics + toxicity + populations
    ("mmmech.reports", 9.8),  # interactive HTML reports of every kind of result
    ("mmmech.trials", 9.5),  # virtual trials: populations x dynamics, run like a screen
    ("mmmech.calibration", 9.6),  # single-agent calibration: after trials, before the CLI
    ("mmmech.trials.validation", 9.65),  # virtual vs real trials: reads calibration's trial data
    ("mmmech.cli", 10),
    ("mmmech.__main__", 11),
    ("mmmech", 11),
    # deprecated re-exports of 0.1 module paths (removed in the next release)
    *[
        (f"mmmech.{old}", 11)
        for old in (
            "compiled",
            "propagate",
            "occupancy",
            "diffusion",
            "contexts",
            "logic",
            "interchange",
            "draw",
            "plot",
        )
    ],
]
# network.draw renders a regimen's effect, which it gets from the simulation layer
EXCEPTIONS = {("mmmech.network.draw", "mmmech.simulation")}
DEFERRED_MARK = "deferred"


def layer_of(module):
    best = None
    for prefix, rank in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, rank)
    return best


def modules():
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


MODULES = modules()


def resolve(module, is_pkg, node):
    """Absolute module names imported by `node` (an Import or ImportFrom in `module`)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module
    out = []
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        out.append(sub if sub in MODULES else target)
    return out


def imports():
    """(importer, imported, lineno, deferred_ok, in_function) for every mmmech-internal import."""
    rows = []
    for module, (path, is_pkg) in MODULES.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text)
        func_nodes, typing_only = set(), set()
        for node in ast.walk(tree):  # `if TYPE_CHECKING:` imports never run
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                typing_only |= {id(sub) for sub in ast.walk(node)}
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in ast.walk(fn):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)):
                        func_nodes.add(id(sub))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in typing_only:
                continue
            in_function = id(node) in func_nodes
            here = lines[node.lineno - 1]
            above = lines[node.lineno - 2] if node.lineno >= 2 else ""
            marked = DEFERRED_MARK in here or DEFERRED_MARK in above
            for target in resolve(module, is_pkg, node):
                rows.append((module, target, node.lineno, marked, in_function))
    return rows


IMPORTS = imports()


def test_the_scan_sees_the_package():
    assert {
        "mmmech.drugs",
        "mmmech.network.model",
        "mmmech.simulation.simulator",
        "mmmech.synergy",
        "mmmech.screening",
        "mmmech.cli",
    } <= set(MODULES)
    assert any(t == "mmmech.exceptions" for _, t, *_ in IMPORTS)


def test_no_module_imports_a_higher_layer():
    bad = []
    for src, dst, line, _, _ in IMPORTS:
        if not dst.startswith("mmmech") or dst == "mmmech":
            continue  # the root package is loaded before any module in it (__version__)
        ls, ld = layer_of(src), layer_of(dst)
        if ls is None or ld is None:
            bad.append(f"{src}:{line} -> {dst} (module not in the layer table)")
            continue
        if any(src.startswith(a) and dst.startswith(b) for a, b in EXCEPTIONS):
            continue
        if ld[1] > ls[1]:
            bad.append(f"{src}:{line} imports {dst} (layer {ld[0]} is above {ls[0]})")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_import_cycles():
    g = nx.DiGraph()
    for src, dst, _, _, _ in IMPORTS:
        if dst.startswith("mmmech") and dst != src:
            # a package's __init__ re-exporting its own submodules is not a cycle
            if src == dst.rsplit(".", 1)[0] or dst == "mmmech":
                continue
            if dst in MODULES and MODULES[dst][1] and src.startswith(dst + "."):
                continue  # a submodule using its own package's re-exports is checked below
            g.add_edge(src, dst)
    cycles = list(nx.simple_cycles(g))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c + [c[0]]) for c in cycles)


def test_function_local_imports_say_why():
    """An import inside a function exists only to keep ``import mmmech`` (or a command) fast and
    carries a comment with the word 'deferred' on its line or the line above."""
    bad = [
        f"{src}:{line} imports {dst}"
        for src, dst, line, marked, in_fn in IMPORTS
        if in_fn and not marked
    ]
    assert not bad, "undocumented function-local imports:\n" + "\n".join(sorted(set(bad)))


@pytest.mark.parametrize("prefix", [p for p, _ in LAYERS if p != "mmmech"])
def test_every_layer_exists(prefix):
    assert prefix in MODULES, prefix


def test_import_mmmech_loads_no_layer_and_no_heavy_library():
    """``import mmmech`` is lazy: layers and their libraries load on first use."""
    import subprocess
    import sys

    from _helpers import NEUTRAL_CWD

    code = (
        "import sys, mmmech; print(' '.join(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'numpy', 'scipy', 'pandas', 'networkx', 'rdkit', 'Bio', "
        "'matplotlib', 'dask', 'pyarrow'} or m.startswith('mmmech.'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=NEUTRAL_CWD, check=True
    ).stdout.split()
    assert out == [], out
