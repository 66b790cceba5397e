"""``qa text cluster``: cluster each row's text into themes and summarise the clusters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from classify.sampled_embed import MAX_EXACT
from qa.commands.options import MaxKOption, MinKOption, fail, k_bounds_option
from qa.commands.text_io import (
    FileArg,
    FormatOption,
    OutputOption,
    TextFormat,
    build_static_table,
    open_output,
    progress_bar,
    read_column,
    write_extra_csv,
)


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
    min_k: MinKOption = None,
    max_k: MaxKOption = None,
    stopwords: Annotated[
        Path | None,
        typer.Option(
            help="Names to remove before clustering (company, product), one per line "
            "(default: models/stopwords.txt). Links, @handles and ticket numbers always go.",
        ),
    ] = None,
    clean: Annotated[
        bool,
        typer.Option("--clean/--no-clean", help="Remove links, handles, numbers and names."),
    ] = True,
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
    suggested name, c-TF-IDF keywords, most representative examples, and the k-selection
    curve) on stderr or in --summary.

    jsonl: {"row": N, "cluster": ID}; csv: the input columns + "cluster".
    """
    k_range = k_bounds_option(min_k, max_k)
    entities = _entities(stopwords)
    table = read_column(file, column)
    texts = table.column(column)
    rows = [i for i, t in enumerate(texts) if t.strip()]
    if len(rows) < 2:
        raise fail(f"{file}: column {column!r} has {len(rows)} non-empty text(s); need 2 or more")
    try:
        model, embedder = _fit_themes(
            [texts[i] for i in rows], k=k, min_size=min_size, backend=backend,
            exact_texts=exact_texts,
            options={"k_range": k_range, "entities": entities, "clean": clean},
        )  # fmt: skip
    except (ValueError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    if embedder.n_fitted_:
        from qa.console import err_console

        err_console().print(
            f"embedded {embedder.n_exact_} distinct texts with the transformer and "
            f"{embedder.n_fitted_} with a static model fitted to them (--exact-texts 0: all)"
        )
    reused = getattr(embedder.embedder, "n_cached_", 0)
    if reused:
        from qa.console import err_console

        err_console().print(f"{reused} transformer vectors read from the vector cache")
    labels = [-1] * len(texts)
    for i, label in zip(rows, model.labels_.tolist(), strict=True):
        labels[i] = int(label)
    with open_output(output) as out:
        if format is TextFormat.jsonl:
            for n, label in enumerate(labels, start=1):
                out.write(json.dumps({"row": n, "cluster": label}) + "\n")
        else:
            write_extra_csv(out, table, {"cluster": [str(label) for label in labels]})
    _cluster_summary(model, labels, summary)


def _entities(path: Path | None) -> tuple[str, ...]:
    """Names from ``--stopwords`` (must exist), else from ``models/stopwords.txt`` if any."""
    from classify.cleaning import cleaner_for, load_entities
    from qa.config import Settings

    if path is not None:
        if not path.is_file():
            raise fail(f"{path}: no such stop-word file (one name per line)")
        return load_entities(path)
    try:
        return cleaner_for(Settings.from_env().models_dir).entities
    except (ValueError, TypeError) as exc:  # a bad QA_* variable; the message names it
        raise fail(str(exc)) from exc


def _fit_themes(
    kept: list[str], *, k: int | None, min_size: int, backend: str, exact_texts: int,
    options: dict[str, Any] | None = None,
) -> tuple[Any, Any]:  # fmt: skip
    """``(fitted ThemeModel, SampledEmbedder)`` for the non-empty texts ``kept``; embeds each
    distinct cleaned text once, with a progress bar on stderr for big inputs."""
    from classify.embeddings import Embedder
    from classify.sampled_embed import SampledEmbedder
    from classify.themes import ThemeModel
    from classify.vector_cache import cached

    model = ThemeModel(k=k, min_cluster_size=min_size, **(options or {}))
    work = model.clean_texts(kept)
    distinct = list(dict.fromkeys(work))
    # A static backend is already the fast path: nothing to fit.
    limit = 0 if backend == "static" else exact_texts
    # Through the vector cache: texts `qa text tag` (or an earlier run) embedded are read back.
    embedder = SampledEmbedder(cached(Embedder(backend=backend)), max_exact=limit)
    # The sample the model clusters gets exact vectors; the rest may be fitted ones.
    exact = model.sample_rows(len(distinct))
    if limit and len(distinct) > limit:
        build_static_table(embedder.embedder.model)
    with progress_bar(min(len(distinct), limit or len(distinct)), "embed") as update:
        progress = None if update is None else lambda done, _total: update(done)
        vectors = embedder.encode(distinct, exact=exact, progress=progress)
    where = {text: i for i, text in enumerate(distinct)}
    model.fit(kept, vectors[[where[t] for t in work]])
    return model, embedder


def _cluster_summary(model: Any, labels: list[int], path: Path | None) -> None:
    from qa.console import err_console

    data = {
        "k": model.k_,
        "k_chosen": model.k is None,
        "k_criterion": model.criterion if model.k is None else None,
        "k_curve": [[k, v] for k, v in sorted(model.k_curve_.items())],
        "rows": len(labels),
        "unassigned": sum(label == -1 for label in labels),
        "clusters": [
            {
                "id": t.id,
                "size": t.size,
                "name": t.name,
                "keywords": list(t.keywords),
                "examples": list(t.examples),
            }
            for t in model.themes_
        ],
    }
    if path is not None:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    err = err_console()
    how = f"chosen by {model.criterion}" if model.k is None else "given"
    err.print(
        f"{len(model.themes_)} clusters (k {how}: {model.k_}), {data['unassigned']} rows unassigned"
    )
    for c in data["clusters"]:
        example = c["examples"][0] if c["examples"] else ""
        err.print(
            f"{c['id']:>4} {c['size']:>6}  {c['name']}  [{', '.join(c['keywords'][:5])}]"
            f"  | {example[:70]}",
            markup=False,
            highlight=False,
        )
