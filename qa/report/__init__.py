"""The self-contained HTML report and the insights behind it."""
