"""``qa text ...``: text commands on any CSV, no database needed.

    qa text tag comments.csv --column comment --format jsonl > tags.jsonl
    qa text train labels.csv                    # columns text, tags ("a;b")

Input: a header row, UTF-8 with or without BOM (``classify.textio``). Output goes to stdout
or ``--output``; progress and reports go to stderr. Exit codes: 0 ok, 1 unusable input
(the message says what, where and the valid choices).

Row numbers (``row``) count data rows from 1, in file order.
"""

from __future__ import annotations

import typer

from qa.commands.text_cluster import cluster
from qa.commands.text_tag import tag
from qa.commands.text_train import train
from qa.commands.text_transfer import transfer_reason

app = typer.Typer(
    name="text",
    help="Tag, train on, classify and cluster texts in any CSV (no database).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# One module per sub-command; shared options and helpers in qa.commands.text_io.
app.command("tag")(tag)
app.command("train")(train)
app.command("transfer-reason")(transfer_reason)
app.command("cluster")(cluster)
