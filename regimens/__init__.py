"""Curated treatment regimens, one TOML file each (format: docs/regimens.md)."""
