"""Boolean rules of pathway models: parse, print, inspect (never ``eval``).

A rule is a Boolean expression over node names with ``AND``, ``OR``, ``NOT`` and parentheses,
nested up to :data:`MAX_DEPTH` levels. The symbolic forms ``&``, ``|``, ``!`` (BoolNet) and
``and``/``or``/``not`` are accepted too. Node names are identifiers made of letters, digits,
``_`` and ``.`` (not starting with a digit). The constants ``0`` and ``1`` (or ``false``/``true``)
are allowed.

The parsed form is a small tree of tuples:

``("var", name)``, ``("const", 0.0|1.0)``, ``("not", x)``, ``("and", (x, y, ...))``,
``("or", (x, y, ...))``.

Examples
--------
>>> tree = parse_rule("IKK AND NOT (NFKBIA OR 0)")
>>> format_rule(tree)
'IKK AND NOT (NFKBIA OR 0)'
>>> sorted(literals(tree).items())
[('IKK', 1), ('NFKBIA', -1)]
"""

from __future__ import annotations

import re

from .._typing import RuleTree
from ..exceptions import InvalidInputError

__all__ = ["parse_rule", "format_rule", "variables", "literals", "RuleSyntaxError", "MAX_DEPTH"]

#: deepest nesting a rule may have (parentheses and NOTs, counted together). Real logic models
#: nest a few levels; the bound keeps the parser and every tree walker far from Python's
#: recursion limit, so hostile input gets a clear error instead of a RecursionError.
MAX_DEPTH = 100


class RuleSyntaxError(InvalidInputError):
    """A rule string is not a well-formed Boolean expression (message gives the column)."""


_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<op>&&|\|\||[&|!~])|"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<num>[01](?![0-9A-Za-z_.])))"
)
_WORDS = {"and": "AND", "or": "OR", "not": "NOT", "true": "1", "false": "0"}
_SYMBOLS = {"&": "AND", "&&": "AND", "|": "OR", "||": "OR", "!": "NOT", "~": "NOT"}


def _shown(text, limit=80):
    """A rule for a message: quoted, cut after `limit` characters."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def _tokenize(text):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            bad = text[pos:].lstrip()[:10]
            col = len(text) - len(text[pos:].lstrip()) + 1
            raise RuleSyntaxError(f"unexpected {bad!r} at column {col} of rule {_shown(text)}")
        kind = m.lastgroup
        val = m.group(kind)
        col = m.start(kind) + 1
        if kind == "name" and val.lower() in _WORDS:
            word = _WORDS[val.lower()]
            kind, val = ("num", word) if word in "01" else ("op", word)
        elif kind == "op":
            val = _SYMBOLS[val]
        out.append((kind, val, col))
        pos = m.end()
    return out


class _Parser:
    # grammar: or := and (OR and)* ; and := unary (AND unary)* ; unary := NOT unary | atom
    def __init__(self, text):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0

    def deeper(self, col):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RuleSyntaxError(
                f"rule nests deeper than {MAX_DEPTH} levels (parentheses and "
                f"NOTs) at column {col} of rule {_shown(self.text)}; simplify it"
            )

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None, len(self.text) + 1)

    def fail(self, what):
        kind, val, col = self.peek()
        got = "end of rule" if kind is None else repr(val)
        raise RuleSyntaxError(
            f"expected {what} at column {col} of rule {_shown(self.text)}, got {got}"
        )

    def parse(self):
        if not self.toks:
            raise RuleSyntaxError("empty rule")
        tree = self.or_()
        if self.i != len(self.toks):
            self.fail("AND, OR or the end of the rule")
        return tree

    def or_(self):
        items = [self.and_()]
        while self.peek()[:2] == ("op", "OR"):
            self.i += 1
            items.append(self.and_())
        return items[0] if len(items) == 1 else ("or", tuple(items))

    def and_(self):
        items = [self.unary()]
        while self.peek()[:2] == ("op", "AND"):
            self.i += 1
            items.append(self.unary())
        return items[0] if len(items) == 1 else ("and", tuple(items))

    def unary(self):
        if self.peek()[:2] == ("op", "NOT"):
            self.deeper(self.peek()[2])
            self.i += 1
            tree = ("not", self.unary())
            self.depth -= 1
            return tree
        return self.atom()

    def atom(self):
        kind, val, _ = self.peek()
        if kind == "name":
            self.i += 1
            return ("var", val)
        if kind == "num":
            self.i += 1
            return ("const", float(val))
        if kind == "lp":
            self.deeper(self.peek()[2])
            self.i += 1
            tree = self.or_()
            if self.peek()[0] != "rp":
                self.fail("')'")
            self.i += 1
            self.depth -= 1
            return tree
        self.fail("a node name, NOT or '('")


def parse_rule(text: str) -> RuleTree:
    """Parse a Boolean rule into a tree (see the module docstring); RuleSyntaxError on errors."""
    if not isinstance(text, str):
        raise RuleSyntaxError(f"a rule must be a string, got {type(text).__name__}")
    return _Parser(text).parse()


_PREC = {"or": 1, "and": 2, "not": 3, "var": 4, "const": 4}


def format_rule(tree: RuleTree, style: str = "words") -> str:
    """Print a rule tree: ``style="words"`` (AND/OR/NOT) or ``"bnet"`` (&, |, !)."""
    ops = {"words": (" AND ", " OR ", "NOT "), "bnet": (" & ", " | ", "!")}[style]

    def fmt(t: RuleTree, parent: int) -> str:
        kind = t[0]
        if kind == "var":
            s = t[1]
        elif kind == "const":
            s = "1" if t[1] else "0"
        elif kind == "not":
            s = ops[2] + fmt(t[1], 3)
        else:
            s = (ops[0] if kind == "and" else ops[1]).join(fmt(c, _PREC[kind]) for c in t[1])
        return f"({s})" if _PREC[kind] < parent or (kind == "not" and parent > 3) else s

    return fmt(tree, 0)


def variables(tree: RuleTree) -> list[str]:
    """Node names a rule reads, in order of first appearance."""
    seen: list[str] = []

    def walk(t: RuleTree) -> None:
        if t[0] == "var":
            if t[1] not in seen:
                seen.append(t[1])
        elif t[0] == "not":
            walk(t[1])
        elif t[0] in ("and", "or"):
            for c in t[1]:
                walk(c)

    walk(tree)
    return seen


def literals(tree: RuleTree) -> dict[str, int]:
    """Sign of each input: +1 (activating), -1 (inhibiting, under an odd number of NOTs), or 0
    when the same node appears with both signs."""
    signs: dict[str, int] = {}

    def walk(t: RuleTree, s: int) -> None:
        if t[0] == "var":
            signs[t[1]] = s if signs.get(t[1], s) == s else 0
        elif t[0] == "not":
            walk(t[1], -s)
        elif t[0] in ("and", "or"):
            for c in t[1]:
                walk(c, s)

    walk(tree, 1)
    return signs
