"""``qa text ...``: text commands on any CSV, no database needed.

    qa text tag comments.csv --column comment --format jsonl > tags.jsonl
    qa text train labels.csv                    # columns text, tags ("a;b")

Input: a header row, UTF-8 with or without BOM (``classify.textio``). Output goes to stdout
or ``--output``; progress and reports go to stderr. Exit codes: 0 ok, 1 unusable input
(the message says what, where and the valid choices).

Row numbers (``row``) count data rows from 1, in file order.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from classify.sampled_embed import MAX_EXACT
from qa.commands.options import DbOption, fail

app = typer.Typer(
    name="text",
    help="Tag, train on, classify and cluster texts in any CSV (no database).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

PROGRESS_MIN_ROWS = 500
"""Files with at least this many rows get a progress bar on stderr."""
CHUNK = 256


class TextFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


class TaggerChoice(StrEnum):
    auto = "auto"
    rules = "rules"
    combined = "combined"


class Source(StrEnum):
    comment = "comment"
    customer = "customer"
    agent = "agent"


FileArg = Annotated[Path, typer.Argument(help="CSV file with a header row (UTF-8).")]
FormatOption = Annotated[TextFormat, typer.Option("--format", "-f", help="Output format.")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
]
ModelsDirOption = Annotated[
    Path | None,
    typer.Option("--models-dir", help="Folder of trained models (default: models/trained)."),
]


def read_column(file: Path, *columns: str) -> Any:
    """The CSV as a ``classify.textio.TextTable``, or a clean exit naming what is wrong."""
    from classify.textio import TextInputError, read_table

    try:
        return read_table(file, required=columns)
    except TextInputError as exc:
        raise fail(str(exc)) from None


@contextmanager
def open_output(output: Path | None) -> Iterator[IO[str]]:
    """``output`` opened for writing (UTF-8, CSV-safe newlines), or stdout."""
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        yield handle


@contextmanager
def _progress(total: int, description: str) -> Iterator[Callable[[int], Any] | None]:
    """``update(done)`` drawing a rich progress bar on stderr for big inputs (at least
    ``PROGRESS_MIN_ROWS``), or None for small ones."""
    if total < PROGRESS_MIN_ROWS:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from qa.console import err_console

    bar = Progress(
        description, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console(), transient=False,
    )  # fmt: skip
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


# ----------------------------------------------------------------------------- tag


@app.command("tag")
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
            help="rules: taxonomy patterns only; combined: rules + the trained model; "
            "auto: combined when a trained model exists, else rules.",
        ),
    ] = TaggerChoice.auto,
    source: Annotated[
        Source, typer.Option(help="Whose words these are (tags apply per source).")
    ] = Source.comment,
    models_dir: ModelsDirOption = None,
    threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Model probability needed for a tag.")
    ] = 0.5,
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            help="Processes that parse in parallel (rules only; 0: one per core, up to 4).",
        ),
    ] = 0,
) -> None:
    """Tag each row's text; one output row per input row, every tag with its evidence.

    jsonl: {"row": N, "tags": [{"tag", "score", "method", "evidence"}]}; csv: the input
    columns + "tags" (;-separated) + "evidence" (one per tag, " | "-separated).
    """
    table = read_column(file, column)
    tagger = _tagger(model, models_dir, threshold)
    texts = table.column(column)
    hits = _tag_all(tagger, texts, source.value, workers)
    with open_output(output) as out:
        if format is TextFormat.jsonl:
            for n, row_hits in enumerate(hits, start=1):
                out.write(json.dumps({"row": n, "tags": [_hit_json(h) for h in row_hits]}))
                out.write("\n")
        else:
            _write_csv(out, table, hits)


def _tagger(choice: TaggerChoice, models_dir: Path | None, threshold: float) -> Any:
    from classify import RuleTagger
    from classify.combined import CombinedTagger
    from classify.model_store import MODEL_FILE, default_models_dir
    from qa.console import err_console

    path = (models_dir or default_models_dir()) / MODEL_FILE
    if choice is TaggerChoice.rules or (choice is TaggerChoice.auto and not path.is_file()):
        # Rules only; the prefilter skips the parse for texts no pattern can match.
        return CombinedTagger(RuleTagger(), None).fit()
    from classify.learned import LearnedTagger

    try:
        learned = LearnedTagger.load(path)
    except (FileNotFoundError, ValueError, TypeError) as exc:
        raise fail(f"{exc} (or use --model rules)") from None
    err_console().print(f"using rules + trained model {path}")
    return CombinedTagger(RuleTagger(), learned, model_threshold=threshold).fit()


def _tag_all(tagger: Any, texts: Sequence[str], source: str, workers: int = 1) -> list[list[Any]]:
    """Tag distinct non-empty texts once each, in chunks (for the progress bar and the
    worker processes)."""
    from classify.workers import chunk_tagger

    distinct = list(dict.fromkeys(t for t in texts if t.strip()))
    chunks = [distinct[lo : lo + CHUNK] for lo in range(0, len(distinct), CHUNK)]
    found: dict[str, list[Any]] = {}
    # Workers are forked before the progress bar starts its drawing thread.
    with (
        chunk_tagger(tagger, source, workers, len(distinct)) as tag_chunks,
        _progress(len(distinct), "tag") as update,
    ):
        for part, part_hits in zip(chunks, tag_chunks(chunks), strict=True):
            found.update(zip(part, part_hits, strict=True))
            if update is not None:
                update(len(found))
    return [found.get(t, []) for t in texts]


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


# --------------------------------------------------------------------------- train


@app.command("train")
def train(
    labels: Annotated[
        Path | None,
        typer.Argument(help="CSV with a text column and a tags column ('a;b'; empty = none)."),
    ] = None,
    text_column: Annotated[str, typer.Option(help="Column with the text.")] = "text",
    tags_column: Annotated[str, typer.Option(help="Column with the tags.")] = "tags",
    sep: Annotated[str, typer.Option(help="Separator between tags in a cell.")] = ";",
    from_db: Annotated[
        bool, typer.Option("--from-db", help="Add reviewer decisions from the database.")
    ] = False,
    db: DbOption = None,
    taxonomy_examples: Annotated[
        bool,
        typer.Option("--taxonomy/--no-taxonomy", help="Add the taxonomy's example sentences."),
    ] = True,
    models_dir: ModelsDirOption = None,
    folds: Annotated[int, typer.Option(min=2, help="Cross-validation folds.")] = 5,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Train the learned tagger into models/trained/ and print cross-validated
    precision / recall / F1 per tag."""
    from qa.stages import retrain as training

    examples: list[Any] = []
    if labels is not None:
        from classify.learned import label_sets

        table = read_column(labels, text_column, tags_column)
        sets = label_sets(table.column(tags_column), sep)
        examples += training.label_examples(table.column(text_column), sets)
    taxonomy = None
    if taxonomy_examples:
        from classify import RuleTagger, load_taxonomy

        taxonomy = load_taxonomy()
        examples += training.taxonomy_examples(taxonomy, RuleTagger(taxonomy).fit())
    unused = 0
    if from_db:
        from sqlmodel import Session

        from qa.store.engine import make_engine

        try:
            engine = make_engine(db)
            with Session(engine) as session:
                human, unused = training.human_examples(session)
        except Exception as exc:  # an unreachable or broken database is fatal; say which
            raise fail(f"cannot read reviewer decisions from {db or '(default)'}: {exc}") from exc
        examples += human
    if not examples:
        raise fail("nothing to train on: give LABELS.csv, --from-db, or keep --taxonomy")
    try:
        report = training.train(
            examples, models_dir=models_dir, taxonomy=taxonomy, folds=folds, unused=unused
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    _print_train(report, json_out)


def _print_train(report: Any, json_out: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from qa.console import err_console

    if json_out:
        print(json.dumps({"model": str(report.path), **report.metadata}, indent=2))
        return
    table = Table(title=f"cross-validated per tag ({report.path})")
    for name in ("tag", "pos", "neg", "precision", "recall", "F1", "folds", "calibration"):
        table.add_column(name, justify="left" if name in ("tag", "calibration") else "right")

    def fmt(x: float | None) -> str:
        return "—" if x is None else f"{x:.2f}"

    for s in report.scores:
        table.add_row(s.tag, str(s.positives), str(s.negatives), fmt(s.precision),
                      fmt(s.recall), fmt(s.f1), str(s.folds), s.calibration)  # fmt: skip
    Console(highlight=False, width=110).print(table)
    err = err_console()
    counts = ", ".join(f"{v} {k}" for k, v in report.examples.items())
    err.print(f"trained on {counts} examples in {report.seconds:.1f}s -> {report.path}")
    for tag_name, why in report.skipped.items():
        err.print(f"[yellow]not learned:[/yellow] {tag_name}: {why}")
    if report.unused:
        err.print(f"{report.unused} reviewer decision(s) had no text to learn from")


# ------------------------------------------------- transfer-reason / cluster (other helper)


@app.command("transfer-reason")
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
        _write_extra_csv(out, table, extra)


@app.command("cluster")
def cluster(
    file: FileArg,
    column: Annotated[str, typer.Option("--column", "-c", help="Column with the text.")] = "text",
    k: Annotated[
        int | None,
        typer.Option("--k", min=1, help="Number of clusters (default: chosen automatically)."),
    ] = None,
    format: FormatOption = TextFormat.jsonl,
    output: OutputOption = None,
    summary: Annotated[
        Path | None,
        typer.Option("--summary", help="Write the cluster summary here (JSON), not to stderr."),
    ] = None,
    min_size: Annotated[
        int, typer.Option(min=1, help="Smaller clusters are dissolved (their rows get -1).")
    ] = 3,
    backend: Annotated[
        str,
        typer.Option(help="Embedding backend: auto (onnx-int8), torch, onnx, onnx-int8, static."),
    ] = "auto",
    exact_texts: Annotated[
        int,
        typer.Option(
            min=0,
            help="Distinct texts embedded with the transformer; beyond that many, the rest "
            "get a static model fitted to them (cosine ~0.9, ~100x faster). 0: all texts.",
        ),
    ] = MAX_EXACT,
) -> None:
    """Cluster each row's text into themes; one output row per input row (cluster -1: an
    empty text or a dissolved small cluster), then a summary of the clusters (id, size,
    c-TF-IDF keywords, most representative examples) on stderr or in --summary.

    jsonl: {"row": N, "cluster": ID}; csv: the input columns + "cluster".
    """
    from classify.embeddings import Embedder
    from classify.sampled_embed import SampledEmbedder
    from classify.themes import ThemeModel

    table = read_column(file, column)
    texts = table.column(column)
    rows = [i for i, t in enumerate(texts) if t.strip()]
    if len(rows) < 2:
        raise fail(f"{file}: column {column!r} has {len(rows)} non-empty text(s); need 2 or more")
    kept = [texts[i] for i in rows]
    distinct = list(dict.fromkeys(kept))
    try:
        model = ThemeModel(k=k, min_cluster_size=min_size)
        # A static backend is already the fast path: nothing to fit.
        limit = 0 if backend == "static" else exact_texts
        embedder = SampledEmbedder(Embedder(backend=backend), max_exact=limit)
        # The sample the model clusters gets exact vectors; the rest may be fitted ones.
        exact = model.sample_rows(len(distinct))
        if limit and len(distinct) > limit:
            _build_static_table(embedder.embedder.model)
        with _progress(min(len(distinct), limit or len(distinct)), "embed") as update:
            progress = None if update is None else lambda done, _total: update(done)
            vectors = embedder.encode(distinct, exact=exact, progress=progress)
        where = {text: i for i, text in enumerate(distinct)}
        model.fit(kept, vectors[[where[t] for t in kept]])
    except (ValueError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    if embedder.n_fitted_:
        from qa.console import err_console

        err_console().print(
            f"embedded {embedder.n_exact_} distinct texts with the transformer and "
            f"{embedder.n_fitted_} with a static model fitted to them (--exact-texts 0: all)"
        )
    labels = [-1] * len(texts)
    for i, label in zip(rows, model.labels_.tolist(), strict=True):
        labels[i] = int(label)
    with open_output(output) as out:
        if format is TextFormat.jsonl:
            for n, label in enumerate(labels, start=1):
                out.write(json.dumps({"row": n, "cluster": label}) + "\n")
        else:
            _write_extra_csv(out, table, {"cluster": [str(label) for label in labels]})
    _cluster_summary(model, labels, summary)


def _build_static_table(model: str) -> None:
    """Build the static token table the fitted model starts from, saying so (first use)."""
    from classify.embeddings import model_dir
    from classify.static_embed import static_file, static_path
    from qa.console import err_console

    path = model_dir(model)
    if static_file(path).is_file():
        return
    with err_console().status("building the static token table (once per machine, ~30 s)"):
        static_path(path)


def _write_extra_csv(out: IO[str], table: Any, extra: dict[str, list[str]]) -> None:
    """The input columns plus ``extra`` ones (prefixed ``qa_`` if the input has that name)."""
    from qa.safecsv import SafeWriter

    names = [name if name not in table.columns else f"qa_{name}" for name in extra]
    writer = SafeWriter(out, lineterminator="\n")
    writer.writerow([*table.columns, *names])
    for n, row in enumerate(table.rows):
        writer.writerow([*(row[c] for c in table.columns), *(v[n] for v in extra.values())])


def _cluster_summary(model: Any, labels: list[int], path: Path | None) -> None:
    from qa.console import err_console

    data = {
        "k": model.k_,
        "k_chosen": model.k is None,
        "rows": len(labels),
        "unassigned": sum(label == -1 for label in labels),
        "clusters": [
            {"id": t.id, "size": t.size, "keywords": list(t.keywords), "examples": list(t.examples)}
            for t in model.themes_
        ],
    }
    if path is not None:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    err = err_console()
    how = "chosen" if model.k is None else "given"
    err.print(
        f"{len(model.themes_)} clusters (k {how}: {model.k_}), {data['unassigned']} rows unassigned"
    )
    for c in data["clusters"]:
        example = c["examples"][0] if c["examples"] else ""
        err.print(
            f"{c['id']:>4} {c['size']:>6}  {', '.join(c['keywords'][:6])}  | {example[:80]}",
            markup=False,
            highlight=False,
        )
