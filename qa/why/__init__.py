"""Why the numbers are what they are: tag drivers, their statistics, change over time."""
