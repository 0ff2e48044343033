"""The command-line contract of INTERFACE.md: version, help, one-line errors."""

import json

import pytest
from _helpers import assert_one_line_error

from mmmech.cli import main

SUBCOMMANDS = [
    ["score"],
    ["simulate"],
    ["screen"],
    ["drugs"],
    ["drugs", "list"],
    ["drugs", "show"],
    ["drugs", "infer"],
    ["pathway"],
    ["pathway", "validate"],
    ["pathway", "show"],
    ["pathway", "export"],
    ["pathway", "draw"],
    ["structures"],
    ["structures", "binding-site"],
    ["structures", "targets"],
]


def test_version(run_cli):
    import mmmech

    p = run_cli("--version")
    assert p.returncode == 0
    assert p.stdout.strip() == f"mmmech {mmmech.__version__}"


def test_top_level_help_lists_every_command(run_cli):
    p = run_cli("--help")
    assert p.returncode == 0
    for cmd in ("score", "simulate", "screen", "drugs", "pathway", "structures"):
        assert cmd in p.stdout


@pytest.mark.parametrize("cmd", SUBCOMMANDS, ids=lambda c: " ".join(c))
def test_every_subcommand_has_help(cmd, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*cmd, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "usage: mmmech " + " ".join(cmd) in " ".join(out.split())


def test_unknown_subcommand_is_one_line_exit_2(run_cli):
    assert_one_line_error(run_cli("no-such-command"), "no-such-command")


def test_bad_option_is_one_line_exit_2(run_cli):
    assert_one_line_error(run_cli("score", "--metric", "banana"), "banana")


def test_group_without_subcommand_is_an_error(run_cli):
    assert_one_line_error(run_cli("drugs"), "subcommand")


def test_no_arguments_prints_help_and_exits_2(run_cli):
    p = run_cli()
    assert p.returncode == 2 and "usage" in p.stderr


def test_emit_json_writes_nan_as_null(capsys):
    import numpy as np

    from mmmech.cli import emit_json

    emit_json({"a": float("nan"), "b": np.float64(1.5), "c": np.arange(2)})
    assert json.loads(capsys.readouterr().out) == {"a": None, "b": 1.5, "c": [0, 1]}


def test_pathway_validate_exits_1_on_an_invalid_model(run_cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[model]\nname = "bad"\n[[node]]\nname = "A"\nkind = "input"\n'
        '[[node]]\nname = "B"\nrule = "A"\n[readouts]\nviability = "B"\n'
    )
    p = run_cli("pathway", "validate", bad, "--json")
    assert p.returncode == 1
    doc = json.loads(p.stdout)
    assert doc["ok"] is False and any("source" in e for e in doc["errors"])
    assert run_cli("pathway", "validate", "--json").returncode == 0
