"""Bundled contexts: cell_line, marrow."""
