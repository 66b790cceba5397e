"""Exports into the database: CSV reading, row validation, rejects, upserts."""
