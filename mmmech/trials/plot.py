"""The picture of a virtual trial: Kaplan-Meier PFS curves with the numbers at risk under them,
and the IMWG best-response distribution of each arm (through :mod:`mmmech._figures`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._figures import check_output_path, new_figure, save_figure
from .._typing import PathLike
from .arms import DAYS_PER_MONTH, RESPONSE_ORDER
from .survival import kaplan_meier

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from .run import TrialResult

__all__ = ["plot_trial"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
_RESPONSE_COLOURS = ("#08306b", "#2171b5", "#6baed6", "#c6dbef", "#d9d9d9", "#a50f15")


def plot_trial(result: TrialResult, path: PathLike, title: str | None = None) -> str:
    """Write the KM curves (numbers at risk below) and response bars of `result` to `path`."""
    path, _ = check_output_path(path, "TrialResult.plot", "path")
    fig = new_figure((11.0, 5.0))
    gs = fig.add_gridspec(2, 2, height_ratios=(4, 1), width_ratios=(3, 2), hspace=0.35)
    ax = fig.add_subplot(gs[0, 0])
    risk = fig.add_subplot(gs[1, 0], sharex=ax)
    bars = fig.add_subplot(gs[:, 1])
    end = result.follow_up_days / DAYS_PER_MONTH
    ticks = np.linspace(0.0, end, 5)
    for k, arm in enumerate(result.arms):
        km = kaplan_meier(arm.pfs_days, arm.progressed)
        c = _COLOURS[k % len(_COLOURS)]
        t = np.append(km.times / DAYS_PER_MONTH, end)
        s = np.append(km.survival, km.survival[-1])
        ax.step(t, s, where="post", color=c, label=arm.name)
        ax.fill_between(
            km.times / DAYS_PER_MONTH, km.low, km.high, step="post", color=c, alpha=0.15, lw=0
        )
        for x in ticks:
            risk.text(
                x,
                -k,
                str(km.at_risk_at(x * DAYS_PER_MONTH)),
                ha="center",
                va="center",
                color=c,
                fontsize=8,
            )
    ax.set_ylim(0.0, 1.02)
    ax.set_ylabel("progression-free")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(
        title or f"{result.population}: {result.patients} virtual patients, seed {result.seed}",
        fontsize=10,
    )
    risk.set_ylim(-len(result.arms) + 0.5, 0.5)
    risk.set_yticks(
        [-k for k in range(len(result.arms))], [a.name for a in result.arms], fontsize=8
    )
    risk.set_xticks(ticks)
    risk.set_xlabel("months")
    risk.set_title("numbers at risk", fontsize=8, loc="left")
    for side in ("top", "right", "left"):
        risk.spines[side].set_visible(False)
    x = np.arange(len(result.arms))
    bottom = np.zeros(len(result.arms))
    for cat, col in zip(RESPONSE_ORDER, _RESPONSE_COLOURS, strict=True):
        share = np.array([a.counts()[cat] / max(a.n_patients, 1) for a in result.arms])
        bars.bar(x, share, bottom=bottom, color=col, label=cat)
        bottom += share
    bars.set_xticks(x, [a.name for a in result.arms], fontsize=8)
    bars.set_ylabel("share of patients (IMWG best response)")
    bars.set_ylim(0.0, 1.0)
    bars.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.25, 1.0))
    return save_figure(fig, path, func="TrialResult.plot", bbox_inches="tight")
