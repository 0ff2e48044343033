"""Curated pathway models and contexts (see README.md here)."""
