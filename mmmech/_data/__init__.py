"""Curated data shipped with mmmech (installed from structures/ and pathways/)."""
