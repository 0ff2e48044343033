"""Curated example patients, one TOML file each (format: docs/populations.md, "Patient files")."""
