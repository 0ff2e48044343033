"""Curated virtual populations, one TOML file each (format: docs/populations.md)."""
