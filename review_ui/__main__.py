"""``python -m review_ui [--db PATH_OR_URL] [--host H] [--port P]``: serve the review UI."""

from __future__ import annotations

import argparse

from qa.store.engine import make_engine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m review_ui", description=__doc__)
    parser.add_argument(
        "--db",
        default=None,
        help="SQLite path or SQLAlchemy URL (default: QA_DB_URL or ./callqa.db)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)
    from review_ui.app import serve

    serve(make_engine(args.db), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
