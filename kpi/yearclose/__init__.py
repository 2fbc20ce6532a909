"""年度关账: closing a unit's year (its goal tables become read-only) and reopening it with a reason."""
