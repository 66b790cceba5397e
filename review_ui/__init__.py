"""callqa review UI (Gradio). ``build_app(engine)`` / ``serve(engine)`` live in ``review_ui.app``.

Importing this package stays light: Gradio is loaded only when ``build_app`` or ``serve``
is first used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_app", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from review_ui import app

        return getattr(app, name)
    raise AttributeError(f"module 'review_ui' has no attribute {name!r}")
