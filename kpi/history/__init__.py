"""变更记录: the history of a project and everything of it (who, when, old → new)."""
