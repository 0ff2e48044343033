"""The calibration's report as Markdown, from a parameter file (``mmmech calibrate --markdown``).

The tables of docs/calibration.md's *Result* section are this module's output for the bundled
``single_agent_fit``: the fitted values with their 95% profile intervals, and per arm the
observed values with the uncertainty a modelled value must fall in, the model at the defaults
and at the fit, the deviance with a chi-square p-value, and the diagnosis (within / tension /
structural). Regenerate after re-running the fit::

    mmmech calibrate --agents ... --out calibration/single_agent_fit.toml --markdown FILE.md
    python -c "from mmmech import calibration; print(calibration.fit_report('single_agent_fit'))"
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import tomllib

from ..exceptions import ModelFileError

__all__ = ["fit_report", "fit_tables"]

_KEYS = (
    ("orr", "ORR"),
    ("vgpr_or_better", ">= VGPR"),
    ("cr_or_better", "CR"),
    ("median_ttp_months", "median TTP (mo)"),
    ("median_pfs_months", "median PFS (mo)"),
)


def _num(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "yes" if v else "no"
    v = float(v)
    if not math.isfinite(v):
        return "-"
    if v == 0:
        return "0"
    return f"{v:.3g}"


def _load(source: Any) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return dict(source)
    text: str
    name = os.fspath(source)
    if os.path.exists(name):
        with open(name, encoding="utf-8") as fh:
            text = fh.read()
    else:
        res = resources.files("mmmech._data.calibration") / f"{name}.toml"
        if not res.is_file():
            raise ModelFileError(f"fit_report(): no parameter file {name!r} (a path or a name)")
        text = res.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ModelFileError(f"fit_report(): {name}: {e}") from None


def fit_tables(parameters: Sequence[Mapping[str, Any]], arms: Sequence[Mapping[str, Any]]) -> str:
    """The parameter table and the per-arm table (Markdown) of one fit."""
    out = ["| parameter | fitted | 95% profile interval |", "|---|---|---|"]
    for p in parameters:
        lo, hi = p.get("low"), p.get("high")
        out.append(f"| `{p['name']}` | {_num(p.get('value'))} | [{_num(lo)}, {_num(hi)}] |")
    out += [
        "",
        "Per arm: observed [the uncertainty a modelled value must fall in] / model at the "
        "defaults / model at the fit (✗: the fitted value is outside); deviance at the fit "
        "(at the defaults) and its chi-square p-value; within at the defaults / at the fit; "
        "the arm alone (its lowest deviance over every factor value run and the shared "
        "constants) and the diagnosis. ±: the Monte Carlo standard error of the fitted value "
        "from the sampling of the network patients (when recorded); 'within MC noise': every "
        "value outside its band is within 2 of them.",
        "",
        "| arm | factor | "
        + " | ".join(label for _, label in _KEYS)
        + " | deviance fit (defaults), p | within: defaults / fit | alone: deviance (within) "
        "| diagnosis |",
        "|---|---|" + "---|" * len(_KEYS) + "---|---|---|---|",
    ]
    for r in arms:
        cells = [str(r["arm"]), f"`{r.get('parameter', '-')}` {_num(r.get('factor'))}"]
        for key, _ in _KEYS:
            if f"{key}_observed" not in r:
                cells.append("-")
                continue
            unc = ""
            if f"{key}_low" in r and f"{key}_high" in r:
                unc = f" [{_num(r[key + '_low'])}-{_num(r[key + '_high'])}]"
            mark = "" if r.get(f"{key}_within", True) else " ✗"
            se = f" ±{_num(r[key + '_mc_se'])}" if r.get(key + "_mc_se") is not None else ""
            cells.append(
                f"{_num(r[key + '_observed'])}{unc} / {_num(r.get(key + '_at_defaults'))} / "
                f"{_num(r.get(key + '_predicted'))}{se}{mark}"
            )
        cells.append(
            f"{_num(r.get('deviance'))} ({_num(r.get('deviance_at_defaults'))}), "
            f"p = {_num(r.get('fit_p_value'))}"
        )
        fit = "**yes**" if r.get("fits") else "no"
        cells.append(f"{_num(r.get('fits_at_defaults'))} / {fit}")
        cells.append(f"{_num(r.get('alone_deviance'))} ({_num(r.get('fits_alone'))})")
        noise = " (within MC noise)" if r.get("within_mc_noise") else ""
        cells.append(str(r.get("diagnosis", "-")) + noise)
        out.append("| " + " | ".join(cells) + " |")
    n_fit = sum(1 for r in arms if r.get("fits"))
    n_def = sum(1 for r in arms if r.get("fits_at_defaults"))
    n_noise = sum(1 for r in arms if not r.get("fits") and r.get("within_mc_noise"))
    by: dict[str, list[str]] = {}
    for r in arms:
        by.setdefault(str(r.get("diagnosis", "-")), []).append(str(r["arm"]))
    out += [
        "",
        f"**Arms within their uncertainty: {n_fit} of {len(arms)}** at the fit, {n_def} of "
        f"{len(arms)} at the defaults"
        + (f"; {n_noise} more outside by less than 2 Monte Carlo SE. " if n_noise else ". ")
        + "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(by.items())),
    ]
    return "\n".join(out) + "\n"


def fit_report(source: Any) -> str:
    """Markdown report of a parameter file (a bundled name, a path, or its parsed mapping):
    how it was made (command, data, population, patients, objective), the parameter table,
    the per-arm table."""
    doc = _load(source)
    meta = doc.get("calibration", {})
    head = [
        f"Parameter file `{meta.get('name', '?')}` (version {meta.get('version', '?')}, "
        f"{meta.get('date', '?')}); command: `{meta.get('command', '?')}`.",
        f"Population `{meta.get('population', '?')}`, {meta.get('patients', '?')} network "
        f"patients x {meta.get('draws', 1)} tumour-multiplier draws, seed {meta.get('seed', '?')}, "
        f"follow-up {_num(meta.get('follow_up_days'))} days; deviance {_num(meta.get('objective'))}"
        f" at the fit against {_num(meta.get('objective_at_defaults'))} at the defaults.",
        "",
    ]
    return "\n".join(head) + fit_tables(doc.get("parameter", []), doc.get("fit", []))
