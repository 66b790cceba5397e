"""``qa text tag``: tag each row's text with the taxonomy rules (and the trained model)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from qa.commands.options import fail
from qa.commands.text_io import (
    FileArg,
    FormatOption,
    ModelsDirOption,
    OutputOption,
    TextFormat,
    open_output,
    progress_bar,
    read_column,
)

CHUNK = 1024
TAG_MAX_EXACT = 10_000
"""Distinct texts the learned model embeds exactly by default in ``qa text tag``."""


class TaggerChoice(StrEnum):
    auto = "auto"
    rules = "rules"
    combined = "combined"


class Source(StrEnum):
    comment = "comment"
    customer = "customer"
    agent = "agent"


def tag(
    file: FileArg,
    column: Annotated[
        str, typer.Option("--column", "-c", help="Column with the text.")
    ] = "comment",
    format: FormatOption = TextFormat.jsonl,
    output: OutputOption = None,
    model: Annotated[
        TaggerChoice,
        typer.Option(
            "--model",
            help="rules: taxonomy patterns only; combined (= auto): rules + the learned "
            "model (the trained one when `qa text train` / `qa tag --retrain` made one, "
            "else the default model built from the example bank on first use).",
        ),
    ] = TaggerChoice.auto,
    source: Annotated[
        Source, typer.Option(help="Whose words these are (tags apply per source).")
    ] = Source.comment,
    models_dir: ModelsDirOption = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Model probability needed for a tag (default: each tag's cross-validated "
            "cut-off).",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            help="Processes that tag in parallel (rules only, or a big file whose learned "
            "model answers from a fitted sample; 0: one per core, up to 4).",
        ),
    ] = 0,
    exact_texts: Annotated[
        int,
        typer.Option(
            min=0,
            help="Distinct texts the learned model embeds with the transformer; beyond that "
            "many, the rest (and sentences) get a static model fitted to them (~0.02 "
            "macro-F1 on those texts, ~4x faster). 0: all texts.",
        ),
    ] = TAG_MAX_EXACT,
) -> None:
    """Tag each row's text; one output row per input row, every tag with its evidence.

    jsonl: {"row": N, "tags": [{"tag", "score", "method", "evidence"}]}; csv: the input
    columns + "tags" (;-separated) + "evidence" (one per tag, " | "-separated).
    """
    table = read_column(file, column)
    tagger = make_tagger(model, models_dir, threshold)
    texts = table.column(column)
    prime_model(tagger, texts, exact_texts)
    hits = tag_all(tagger, texts, source.value, workers)
    with open_output(output) as out:
        if format is TextFormat.jsonl:
            for n, row_hits in enumerate(hits, start=1):
                out.write(json.dumps({"row": n, "tags": [_hit_json(h) for h in row_hits]}))
                out.write("\n")
        else:
            _write_csv(out, table, hits)


def make_tagger(choice: TaggerChoice, models_dir: Path | None, threshold: float | None) -> Any:
    """Rules only, or rules + the learned model (``qa.stages.factories.learned_model``)."""
    from classify import RuleTagger, load_taxonomy
    from classify.combined import CombinedTagger
    from classify.model_store import MODEL_FILE
    from qa.config import Settings
    from qa.console import err_console
    from qa.stages.factories import learned_model, trained_model_path

    if choice is TaggerChoice.rules:
        # Rules only; the prefilter skips the parse for texts no pattern can match.
        return CombinedTagger(RuleTagger(), None).fit()
    settings = Settings.from_env()
    trained = trained_model_path(settings) if models_dir is None else models_dir / MODEL_FILE
    console = err_console()
    try:
        taxonomy = load_taxonomy()
        with console.status("loading the tagging model"):
            learned, which = learned_model(
                settings, taxonomy, trained=trained, announce=console.print
            )
    except (FileNotFoundError, ValueError, TypeError) as exc:
        raise fail(f"{exc} (or use --model rules)") from None
    console.print(f"using {which}")
    return CombinedTagger(RuleTagger(taxonomy), learned, model_threshold=threshold).fit()


def prime_model(tagger: Any, texts: Sequence[str], exact_texts: int) -> None:
    """With more than ``exact_texts`` distinct texts (and a learned model), embed a seeded
    sample of that many exactly and give the learned model an embedder that answers every
    other text from a static model fitted to them (``classify.sampled_embed.PrimedEmbedder``)."""
    learned = getattr(tagger, "model_", None)
    distinct = list(dict.fromkeys(t for t in texts if t.strip()))
    if learned is None or not exact_texts or len(distinct) <= exact_texts:
        return
    from classify.embeddings import Embedder
    from classify.sampled_embed import PrimedEmbedder
    from classify.vector_cache import cached
    from qa.commands.text_io import build_static_table
    from qa.console import err_console

    exact = learned.embedder if learned.embedder is not None else Embedder()
    # Through the vector cache: `qa text cluster` on the same file reads these back.
    primed = PrimedEmbedder(cached(exact), max_exact=exact_texts)
    build_static_table(primed.model)
    with progress_bar(exact_texts, "embed sample") as update:
        progress = None if update is None else lambda done, _total: update(done)
        learned.embedder_ = primed.prime(distinct, progress=progress)
    err_console().print(
        f"the learned model embeds {exact_texts} of {len(distinct)} distinct texts with the "
        "transformer and the rest with a static model fitted to them (--exact-texts 0: all)"
    )
    reused = getattr(primed.embedder, "n_cached_", 0)
    if reused:
        err_console().print(f"{reused} transformer vectors read from the vector cache")


def tag_all(tagger: Any, texts: Sequence[str], source: str, workers: int = 1) -> list[list[Any]]:
    """Tag distinct non-empty texts once each, in chunks (for the progress bar and the
    worker processes)."""
    from classify.workers import chunk_tagger

    distinct = list(dict.fromkeys(t for t in texts if t.strip()))
    chunks = [distinct[lo : lo + CHUNK] for lo in range(0, len(distinct), CHUNK)]
    found: dict[str, list[Any]] = {}
    fork_safe = tagger.fork_safe_ or _primed(tagger)
    # Workers are forked before the progress bar starts its drawing thread.
    with (
        _no_tokenizer_threads(fork_safe),
        chunk_tagger(tagger, source, workers, len(distinct), fork_safe=fork_safe) as tag_chunks,
        progress_bar(len(distinct), "tag") as update,
    ):
        for part, part_hits in zip(chunks, tag_chunks(chunks), strict=True):
            found.update(zip(part, part_hits, strict=True))
            if update is not None:
                update(len(found))
    return [found.get(t, []) for t in texts]


def _primed(tagger: Any) -> bool:
    """Whether the learned model answers every text without the transformer (``prime_model``
    gave it a ``PrimedEmbedder``): then its onnxruntime session, whose threads do not survive
    a fork, is never called again, and the tagger may be forked like the rules-only one (the
    spaCy parse and the model's per-tag classifiers in one process per core)."""
    from classify.sampled_embed import PrimedEmbedder

    learned = getattr(tagger, "model_", None)
    return isinstance(getattr(learned, "embedder_", None), PrimedEmbedder)


@contextmanager
def _no_tokenizer_threads(forking: bool) -> Iterator[None]:
    """While forking workers after the fast tokenizer has run threads: tell the tokenizer
    library so (``TOKENIZERS_PARALLELISM=false``), as it otherwise prints a warning in every
    worker before turning its threads off there itself."""
    name = "TOKENIZERS_PARALLELISM"
    if not forking or name in os.environ:
        yield
        return
    os.environ[name] = "false"
    try:
        yield
    finally:
        os.environ.pop(name, None)


def _hit_json(hit: Any) -> dict[str, Any]:
    return {"tag": hit.tag, "score": round(float(hit.score), 4), "method": hit.method,
            "evidence": hit.evidence}  # fmt: skip


def _write_csv(out: IO[str], table: Any, hits: list[list[Any]]) -> None:
    from qa.safecsv import SafeWriter

    tags_col = "tags" if "tags" not in table.columns else "qa_tags"
    evidence_col = "evidence" if "evidence" not in table.columns else "qa_evidence"
    writer = SafeWriter(out, lineterminator="\n")
    writer.writerow([*table.columns, tags_col, evidence_col])
    for row, row_hits in zip(table.rows, hits, strict=True):
        writer.writerow(
            [*(row[c] for c in table.columns),
             ";".join(h.tag for h in row_hits),
             " | ".join(h.evidence for h in row_hits)]
        )  # fmt: skip
