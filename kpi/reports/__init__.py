"""填报: actuals recorded through the year (entry, evidence, budget execution) and their review."""
