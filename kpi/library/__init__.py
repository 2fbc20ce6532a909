"""指标库 (indicator library): entries built from every table, curated by reviewers, picked in the editor."""
