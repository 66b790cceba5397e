"""callqa: call-center QA and conversation analytics (orchestration layer)."""

__version__ = "0.1.0"
