"""Helpers shared by the tests (importable: pytest puts tests/ on sys.path)."""

import tempfile

import numpy as np

#: working folder for subprocesses: ``python -m`` and ``python -c`` put their working folder
#: first on sys.path, and from the source tree that would import the unbuilt ``mmmech/``
#: instead of the installed package
NEUTRAL_CWD = tempfile.mkdtemp(prefix="mmmech-tests-cwd-")


def assert_one_line_error(proc, *needles):
    """The CLI failed with exit 2, one line on stderr, no traceback, mentioning each needle."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n.lower() in lines[0].lower(), (n, lines[0])


def tiny_model(rule="A", y0=1.0, tau=None, name="tiny"):
    """Text of the three-node model of the reliability report (input A -> B -> NOT Viability),
    with B's rule, A's initial value and B's time constant as given."""
    tau_line = "" if tau is None else f"tau = {tau!r}\n"
    return (
        f'[model]\nname = "{name}"\nversion = "1"\ndescription = "tiny"\n'
        '[readouts]\nviability = "Viability"\n'
        f'[[node]]\nname = "A"\nkind = "input"\ny0 = {y0!r}\n'
        f'[[node]]\nname = "B"\nrule = "{rule}"\n{tau_line}'
        '[[node]]\nname = "Viability"\nkind = "phenotype"\nrule = "NOT B"\n'
        '[[edge]]\nsource = "A"\ntarget = "B"\nsign = 1\nsources = ["PMID:1"]\n'
        '[[edge]]\nsource = "B"\ntarget = "Viability"\nsign = -1\nsources = ["PMID:1"]\n'
    )


_FIXED_PROPERTIES = """
[isotype]
shares = { IgG = 1.0 }
sources = ["PMID:2"]

[m_protein]
distribution = "fixed"
value = 3.0
sources = ["PMID:3"]

[age]
distribution = "fixed"
value = 70.0
sources = ["PMID:4"]

[body.weight]
distribution = "fixed"
value = 75.0
sources = ["PMID:5"]

[body.height]
distribution = "fixed"
value = 170.0
sources = ["PMID:6"]

[crcl]
distribution = "fixed"
value = 80.0
sources = ["PMID:7"]

"""


def fixed_population(name, description):
    """The TOML text of population `name` whose isotype, M-protein, age, body and CrCl are
    each fixed to one value, ending with a blank line: a test appends the tables it checks."""
    head = f'\n[population]\nname = "{name}"\ndescription = "{description}"\n'
    return head + _FIXED_PROPERTIES


def assert_same_cohort(a, b):
    """Two `simulate_cohort` results are equal to the bit (arrays, best responses, notes)."""
    for name in ("m_protein", "tumour_burden", "time_to_progression_days", "max_reduction"):
        x, y = getattr(a, name), getattr(b, name)
        assert np.array_equal(x, y, equal_nan=True), name
    assert a.best_response.tolist() == b.best_response.tolist()
    assert a.notes == b.notes
