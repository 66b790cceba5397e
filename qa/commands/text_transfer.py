"""``qa text transfer-reason``: why each row's text transfers the caller."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from qa.commands.text_io import (
    FileArg,
    FormatOption,
    OutputOption,
    TextFormat,
    open_output,
    read_column,
    write_extra_csv,
)


def transfer_reason(
    file: FileArg,
    column: Annotated[
        str, typer.Option("--column", "-c", help="Column with the agent's words.")
    ] = "text",
    format: FormatOption = TextFormat.jsonl,
    output: OutputOption = None,
) -> None:
    """Why each row's text transfers the caller: billing, technical, cancellation,
    supervisor, sales, other, or none (no transfer announced).

    jsonl: {"row": N, "reason": "billing"}; csv: the input columns + "transfer_reason",
    "transfer_evidence" (the announcing sentence) and "transfer_score".
    """
    from classify.transfer import TransferDetector

    table = read_column(file, column)
    texts = table.column(column)
    distinct = list(dict.fromkeys(t for t in texts if t.strip()))
    found = dict(
        zip(distinct, TransferDetector().find_many([[("agent", t)] for t in distinct]), strict=True)
    )
    first = [(found.get(t) or [None])[0] for t in texts]
    with open_output(output) as out:
        if format is TextFormat.jsonl:
            for n, hit in enumerate(first, start=1):
                out.write(json.dumps({"row": n, "reason": hit.reason if hit else "none"}) + "\n")
            return
        extra = {
            "transfer_reason": [h.reason if h else "none" for h in first],
            "transfer_evidence": [h.evidence if h else "" for h in first],
            "transfer_score": [f"{h.score:g}" if h else "" for h in first],
        }
        write_extra_csv(out, table, extra)
