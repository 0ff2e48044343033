"""Closed-form metrics of a PK model (re-exported from :mod:`mmmech.pk.api`)."""

from __future__ import annotations

from .api import accumulation_ratio, auc, css_average, exposure, half_lives

__all__ = ["half_lives", "accumulation_ratio", "css_average", "auc", "exposure"]
