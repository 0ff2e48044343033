"""Drawing a pathway model: layered layout and matplotlib rendering (Agg, no pyplot state)."""
from ._render import (
    DrawResult, draw, neighbourhood, regimen_effect, layout, MAX_NODES,
)

__all__ = ["DrawResult", "draw", "neighbourhood", "regimen_effect", "layout", "MAX_NODES"]
