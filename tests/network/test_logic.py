"""Boolean rule parsing: grammar, printing round trips, errors with columns."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmmech.network.logic import RuleSyntaxError, format_rule, literals, parse_rule, variables


@pytest.mark.parametrize(
    "text, tree",
    [
        ("A", ("var", "A")),
        ("NOT A", ("not", ("var", "A"))),
        ("!A & B", ("and", (("not", ("var", "A")), ("var", "B")))),
        ("A OR B AND C", ("or", (("var", "A"), ("and", (("var", "B"), ("var", "C")))))),
        ("(A OR B) AND C", ("and", (("or", (("var", "A"), ("var", "B"))), ("var", "C")))),
        ("a and not b", ("and", (("var", "a"), ("not", ("var", "b"))))),
        ("x.1 | 0", ("or", (("var", "x.1"), ("const", 0.0)))),
        ("true", ("const", 1.0)),
    ],
)
def test_parse(text, tree):
    assert parse_rule(text) == tree


@pytest.mark.parametrize(
    "text, needle",
    [
        ("", "empty"),
        ("A AND", "end of rule"),
        ("(A OR B", "')'"),
        ("A B", "column 3"),
        ("A $ B", "unexpected '$ B'"),
        ("2A", "unexpected"),
    ],
)
def test_errors_name_the_column(text, needle):
    with pytest.raises(
        RuleSyntaxError, match=needle.replace("(", r"\(").replace(")", r"\)").replace("$", r"\$")
    ):
        parse_rule(text)


def test_literal_signs_and_variables():
    tree = parse_rule("A AND NOT (B OR NOT C) OR A AND NOT A")
    assert variables(tree) == ["A", "B", "C"]
    assert literals(tree) == {"A": 0, "B": -1, "C": 1}


names = st.sampled_from(["A", "B", "C", "D_1", "x.y"])


def trees(depth=3):
    leaf = st.one_of(
        names.map(lambda n: ("var", n)), st.sampled_from([("const", 0.0), ("const", 1.0)])
    )
    return st.recursive(
        leaf,
        lambda sub: st.one_of(
            sub.map(lambda t: ("not", t)),
            st.tuples(
                st.sampled_from(["and", "or"]), st.lists(sub, min_size=2, max_size=3).map(tuple)
            ),
        ),
        max_leaves=12,
    )


def _flatten(t):
    """Canonical form: nested same-kind AND/OR merged (the printer omits their parentheses)."""
    if t[0] in ("and", "or"):
        out = []
        for c in t[1]:
            c = _flatten(c)
            out.extend(c[1] if c[0] == t[0] else [c])
        return (t[0], tuple(out))
    if t[0] == "not":
        return ("not", _flatten(t[1]))
    return t


@given(trees())
def test_print_parse_round_trip(tree):
    for style in ("words", "bnet"):
        assert _flatten(parse_rule(format_rule(tree, style))) == _flatten(tree)
