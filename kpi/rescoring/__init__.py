"""Rescoring: scores and totals computed by the engine from what was recorded (services and tasks)."""
