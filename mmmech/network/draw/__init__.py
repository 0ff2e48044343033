"""Drawing a pathway model: layered layout and matplotlib rendering (Agg, no pyplot state)."""
from ._render import (
    draw, neighbourhood, regimen_effect, layout, MAX_NODES,
)

__all__ = ["draw", "neighbourhood", "regimen_effect", "layout", "MAX_NODES"]
