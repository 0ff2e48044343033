"""Observed results of combination trials: validation only (format: docs/calibration.md)."""
