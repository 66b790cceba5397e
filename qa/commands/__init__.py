"""CLI command modules; registered on the ``qa`` app in ``qa.cli``."""
