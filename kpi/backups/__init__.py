"""Backups: a consistent copy of the database and the uploaded files, and bringing one back."""
