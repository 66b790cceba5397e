"""``python -m review_ui [--db PATH_OR_URL] [--host H] [--port P] ...``: ``qa serve``.

The same command under another name (sign-in, the loopback rule, recordings, the taxonomy's
tags), so the UI is served one way only.
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> None:
    import typer

    from qa.commands.serve import serve

    app = typer.Typer(add_completion=False)
    app.command()(serve)
    app(args=argv, prog_name="python -m review_ui")


if __name__ == "__main__":
    main()
