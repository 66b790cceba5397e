"""Tag many texts in worker processes, one per core.

    from classify.workers import chunk_tagger
    with chunk_tagger(tagger, "comment", 0, len(texts), fork_safe=True) as tag_chunks:
        for hits in tag_chunks(chunks):     # each: tagger.tag_many(chunk), in order
            ...

spaCy's parse is single-threaded; with ``fork`` the workers inherit the parent's fitted
tagger (pipeline, matchers, prefilter) instead of loading their own, and only texts and
``TagHit`` lists cross the process boundary. ``nlp.pipe(n_process=...)`` is no substitute:
it ships whole ``Doc`` objects back, and was 15 % faster on 2 cores where this is ~1.8x.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

MAX_WORKERS = 4
PARALLEL_MIN_TEXTS = 2000
"""Fewer distinct texts are tagged in-process: starting workers would cost more."""


@contextmanager
def chunk_tagger(
    tagger: Any, source: str, workers: int, n_texts: int, *, fork_safe: bool
) -> Iterator[Callable[[list[list[str]]], Iterator[list[list[Any]]]]]:
    """A function mapping chunks of texts to their hits (in order): ``tagger.tag_many`` in
    this process, or in forked worker processes when that pays. ``workers``: processes
    (0: one per core, up to ``MAX_WORKERS``). Only a ``fork_safe`` tagger (rules only; see
    ``CombinedTagger.fork_safe_``) on Linux is forked: a learned model holds an onnxruntime
    session, whose threads do not survive a fork (and it embeds with every core already)."""
    if workers == 0:
        workers = min(
            MAX_WORKERS, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        )
    parallel = (
        workers > 1
        and n_texts >= PARALLEL_MIN_TEXTS
        and fork_safe
        and sys.platform.startswith("linux")
    )
    if not parallel:
        yield lambda chunks: (tagger.tag_many(chunk, source=source) for chunk in chunks)
        return
    # fork: the children inherit the fitted tagger (spaCy pipeline, matchers) instead of
    # loading their own; only texts and hits cross the process boundary.
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_worker_init, initargs=(tagger, source)) as pool:
        yield lambda chunks: pool.imap(_worker_tag, chunks)


_WORKER: dict[str, Any] = {}
"""In a tagging worker process: its tagger and source (set by ``_worker_init``)."""


def _worker_init(tagger: Any, source: str) -> None:
    _WORKER.update(tagger=tagger, source=source)


def _worker_tag(chunk: list[str]) -> list[list[Any]]:
    return _WORKER["tagger"].tag_many(chunk, source=_WORKER["source"])
