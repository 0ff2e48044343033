"""Curated molecular data: drug library and target registry (see README.md here)."""
