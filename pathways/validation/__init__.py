"""Bundled validation data: published in-vitro combination results (invitro_combinations.toml)."""
