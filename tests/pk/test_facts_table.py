"""docs/pk.md 'Published concentration-time facts' lists every [[drug.check]] of the bundled PK
library with the value the model computes, so the table cannot drift from the data or the code."""

import re
from pathlib import Path

import pytest

from mmmech import pk

DOC = Path(__file__).resolve().parents[2] / "docs" / "pk.md"
HEADING = "## Published concentration-time facts"


def _rows():
    text = DOC.read_text(encoding="utf-8")
    assert HEADING in text, "docs/pk.md has no facts table"
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 7 or cells[0] in ("drug", "---"):
            continue
        number = re.match(r"[\d,.]+", cells[4])
        assert number, f"no model value in row {line!r}"
        rows.append((cells[0], cells[1], float(number.group().replace(",", "")), cells[5]))
    return rows


ROWS = _rows()
CHECKS = [(m.drug, c) for m in pk.models().values() for c in m.checks]


def test_the_table_has_one_row_per_check():
    assert len(ROWS) == len(CHECKS)
    assert sorted({r[0] for r in ROWS}) == sorted(pk.names())


@pytest.mark.parametrize("drug, check", CHECKS, ids=[f"{d}-{c.metric}" for d, c in CHECKS])
def test_each_check_is_listed_with_the_model_value(drug, check):
    value = pk.predict_check(drug, check)
    matches = [r for r in ROWS if r[0] == drug and abs(r[2] - value) <= 0.01 * abs(value)]
    assert matches, f"{drug} {check.metric}: model {value:.4g} not listed in docs/pk.md"
    lo, hi = check.band()
    inside = "yes" if lo <= value <= hi else "no"
    assert any(r[3].startswith(inside) for r in matches), (drug, check.metric, inside)


def test_the_table_is_the_generated_one():
    """docs/pk.md holds exactly what `python -m mmmech.pk.facts --write docs/pk.md` writes."""
    from mmmech.pk import facts

    text = DOC.read_text(encoding="utf-8")
    assert text.count(facts.BEGIN) == 1 and text.count(facts.END) == 1
    inner = text.split(facts.BEGIN, 1)[1].split(facts.END, 1)[0]
    assert f"{facts.BEGIN}{inner}{facts.END}" == facts.block(), (
        "docs/pk.md facts table is stale: run python -m mmmech.pk.facts --write docs/pk.md"
    )


def test_write_replaces_only_the_block(tmp_path):
    from mmmech.pk import facts

    doc = tmp_path / "d.md"
    doc.write_text(f"before\n{facts.BEGIN}\nold\n{facts.END}\nafter\n", encoding="utf-8")
    assert facts.write(doc) is True
    out = doc.read_text(encoding="utf-8")
    assert out.startswith("before\n") and out.endswith("\nafter\n")
    assert facts.markdown() in out and "old" not in out
    assert facts.write(doc) is False  # unchanged the second time
    (tmp_path / "none.md").write_text("no markers\n", encoding="utf-8")
    with pytest.raises(Exception, match="facts-table markers"):
        facts.write(tmp_path / "none.md")
