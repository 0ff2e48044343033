"""Drawing a pathway model: layered layout and matplotlib rendering (Agg, no pyplot state)."""

from ._render import (
    MAX_NODES,
    DrawResult,
    draw,
    layout,
    neighbourhood,
    regimen_effect,
)

__all__ = ["DrawResult", "draw", "neighbourhood", "regimen_effect", "layout", "MAX_NODES"]
