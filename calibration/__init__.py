"""Single-agent calibration data and fitted parameter files (format: docs/calibration.md)."""
