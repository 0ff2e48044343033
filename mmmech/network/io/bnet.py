"""BoolNet / PyBoolNet ``.bnet``: Boolean rules (``target, factors``). Read and write."""

from __future__ import annotations

from ...exceptions import ModelFileError
from ...utils import did_you_mean
from ..logic import RuleSyntaxError, format_rule, parse_rule, variables
from ..model import PathwayModel
from ._build import _KEYWORDS, _NAME, _edges_from_rules, build_network

__all__ = ["read_bnet", "write_bnet"]


_Y0_PREFIX = "# mmmech y0:"


def read_bnet(text: str, origin: str, name: str) -> PathwayModel:
    rules: dict[str, tuple] = {}
    order: list[str] = []
    y0: dict[str, float] = {}
    y0_line: dict[str, int] = {}
    header_done = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.lower().startswith(_Y0_PREFIX):
            for item in line[len(_Y0_PREFIX) :].split():
                k, _, v = item.partition("=")
                try:
                    val = float(v)
                except ValueError:
                    raise ModelFileError(
                        f"{origin}, line {lineno}: mmmech y0 entry {item!r} must "
                        f"be NODE=VALUE with VALUE in [0, 1]"
                    ) from None
                if not 0.0 <= val <= 1.0:
                    raise ModelFileError(
                        f"{origin}, line {lineno}: y0 of {k} must lie in [0, 1], got {val}"
                    )
                y0[k] = val
                y0_line[k] = lineno
            continue
        if not line or line.startswith("#"):
            continue
        if "," not in line:
            raise ModelFileError(
                f"{origin}, line {lineno}: expected 'target, factors' (a node, a "
                f"comma and its Boolean rule), got {line[:60]!r}"
            )
        target, _, expr = line.partition(",")
        target, expr = target.strip(), expr.strip()
        if not header_done:
            header_done = True
            if target.lower() == "targets" and expr.lower().replace(" ", "").startswith("factors"):
                if expr.lower().replace(" ", "") != "factors":
                    raise ModelFileError(
                        f"{origin}, line {lineno}: only deterministic BoolNet "
                        f"networks ('targets, factors') are supported, got "
                        f"header {line!r}"
                    )
                continue
        if not _NAME.match(target) or target.lower() in _KEYWORDS:
            raise ModelFileError(
                f"{origin}, line {lineno}: target {target!r} is not a node name "
                f"(letters, digits, '_' and '.', not starting with a digit)"
            )
        if target in rules:
            raise ModelFileError(
                f"{origin}, line {lineno}: second rule for {target!r} (first at "
                f"line {rules[target][1]})"
            )
        if not expr:
            raise ModelFileError(f"{origin}, line {lineno}: {target} has an empty rule")
        try:
            tree = parse_rule(expr)
        except RuleSyntaxError as exc:
            raise ModelFileError(f"{origin}, line {lineno}: rule of {target}: {exc}") from None
        rules[target] = (tree, lineno)
        order.append(target)
    if not rules:
        raise ModelFileError(f"{origin}: no 'target, factors' lines found")
    out_rules, nodes = {}, list(order)
    for tgt, (tree, _) in rules.items():
        for v in variables(tree):
            if v not in rules and v not in nodes:
                nodes.append(v)
        if tree == ("var", tgt):
            continue  # "X, X": an input that keeps its value
        out_rules[tgt] = format_rule(tree)
    for k in y0:
        if k not in nodes:
            raise ModelFileError(
                f"{origin}, line {y0_line[k]}: mmmech y0 names unknown node "
                f"{k!r}{did_you_mean(k, nodes)}"
            )
    inputs = [n for n in nodes if n not in out_rules]
    notes = [
        f"{origin}: Boolean rules read from the BoolNet file for {len(out_rules)} nodes; "
        f"{len(inputs)} input(s) hold their initial activity ({', '.join(inputs[:8])}"
        f"{', ...' if len(inputs) > 8 else ''})"
    ]
    return build_network(
        name,
        nodes,
        _edges_from_rules(out_rules),
        origin=origin,
        fmt="BoolNet",
        rules=out_rules,
        y0=y0,
        notes=notes,
    )


def write_bnet(m: PathwayModel) -> str:
    lines = [
        f"# {m.name}: exported by mmmech (BoolNet format; inputs written as 'X, X')",
        "targets, factors",
    ]
    y0 = [f"{n.name}={n.y0:g}" for n in m.nodes.values() if n.y0 != 0.0]
    for n in m.nodes.values():
        rule = n.name if n.rule is None else format_rule(parse_rule(n.rule), style="bnet")
        lines.append(f"{n.name}, {rule}")
    if y0:
        lines.insert(1, f"{_Y0_PREFIX} " + " ".join(y0))
    return "\n".join(lines) + "\n"
