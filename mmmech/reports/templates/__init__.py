"""The page template, style sheet and table script of mmmech reports (package data)."""
