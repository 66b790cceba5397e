"""PII redaction of texts and transcripts: Presidio + spaCy (offline) + spoken-number rules.

Detection runs on ``numbers.normalise_numbers`` output, so "four four seven two ..." is
seen as digits; every span is mapped back to the ORIGINAL text before it is replaced.
Sources: Presidio (cards, phones, e-mails, SSNs, IBANs, spaCy PERSON / LOCATION), digit
runs (``digit_runs.classify_digit_run``), a street-address pattern, "my name is X" / "I'm X" /
"username: x" cues and, in transcripts, a turn that answers "may I have your name?" and
digits one speaker spread over several segments. Presidio and spaCy load on first use,
once per ``Redactor``; nothing is ever downloaded.

The pieces: spans and placeholders (``transcribe.spans``), the rule-based detectors
(``transcribe.pii_rules``), Presidio loading (``transcribe.presidio_engine``), and masking
transcript words and audio times (``transcribe.redact_words``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from enum import StrEnum
from typing import Any

from transcribe.numbers import NormalisedText, normalise_numbers
from transcribe.pii_rules import answers, rule_spans, split_runs
from transcribe.presidio_engine import SPACY_MODEL, load_analyzer
from transcribe.redact_words import redact_segment
from transcribe.spans import ENTITIES, RedactedSpan, RedactionResult, apply_spans, merge_spans
from transcribe.transcript import Transcript

DEFAULT_ENTITIES = ENTITIES
LANGUAGES = ("en",)
# Presidio's entity names -> ours (IBAN is an account number to a contact center).
_PRESIDIO_ENTITIES = {
    "CREDIT_CARD": "CREDIT_CARD", "PHONE_NUMBER": "PHONE_NUMBER", "US_SSN": "US_SSN",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS", "IBAN_CODE": "ACCOUNT_NUMBER", "PERSON": "PERSON",
    "LOCATION": "LOCATION",
}  # fmt: skip
_NER_ENTITIES = {"PERSON", "LOCATION"}
_LETTER = re.compile(r"[^\W\d_]")
# Names the small spaCy model takes for people or places that identify nobody: card brands,
# and countries (coarser than the state level that HIPAA's Safe Harbor rule removes).
DEFAULT_ALLOW = frozenset({
    "visa", "mastercard", "master card", "amex", "american express", "discover", "maestro",
    "paypal", "apple pay", "google pay", "us", "u.s.", "usa", "u.s.a.", "united states",
    "america", "uk", "u.k.", "united kingdom", "britain", "great britain", "england",
    "scotland", "wales", "ireland", "europe", "eu", "canada", "mexico", "australia", "germany",
    "france", "spain", "italy", "india", "china", "japan",
})  # fmt: skip


class RedactionMode(StrEnum):
    """What the caller keeps: only redacted text, or also the original under restricted access."""

    REDACTED = "redacted"
    REDACTED_AND_ORIGINAL = "redacted+original"


REDACTION_MODES = tuple(m.value for m in RedactionMode)


def parse_mode(value: str) -> RedactionMode:
    """``"redacted"`` / ``"redacted+original"`` -> RedactionMode; anything else is an error."""
    try:
        return RedactionMode(value)
    except ValueError:
        raise ValueError(
            f"unknown redaction mode {value!r}; valid modes: {', '.join(REDACTION_MODES)}"
        ) from None


class Redactor:
    """Finds and replaces PII; construction only stores parameters (models load on first use)."""

    def __init__(
        self,
        entities: Sequence[str] = DEFAULT_ENTITIES,
        placeholder: str = "[{entity}]",
        language: str = "en",
        *,
        score_threshold: float = 0.4,
        spacy_model: str = SPACY_MODEL,
        allow: Iterable[str] = DEFAULT_ALLOW,
    ) -> None:
        unknown = sorted(set(entities) - set(ENTITIES))
        if unknown:
            raise ValueError(f"unknown entities {unknown}; valid entities: {', '.join(ENTITIES)}")
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}; valid: {', '.join(LANGUAGES)}")
        try:
            placeholder.format(entity="X")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"bad placeholder {placeholder!r} ({exc!r}); it may use only {{entity}}"
            ) from None
        self.entities = tuple(entities)
        self.placeholder = placeholder
        self.language = language
        self.score_threshold = score_threshold
        self.allow = frozenset(a.lower() for a in allow)
        self.spacy_model = spacy_model
        self._analyzer: Any = None

    def redact(self, text: str) -> RedactionResult:
        """Redact one text; span offsets refer to ``text``."""
        return self.redact_many([text])[0]

    def redact_many(self, texts: Iterable[str]) -> list[RedactionResult]:
        """Redact many texts in one spaCy batch (much faster than one call each)."""
        texts = list(texts)
        if not texts:
            return []
        return [
            RedactionResult(apply_spans(t, s, self.placeholder), s)
            for t, s in zip(texts, self.find_spans(texts), strict=True)
        ]

    def find_spans(self, texts: Sequence[str]) -> list[tuple[RedactedSpan, ...]]:
        """The PII spans of each text (original offsets, sorted, non-overlapping)."""
        normalised = [normalise_numbers(t) for t in texts]
        found = [rule_spans(n) for n in normalised]
        if any(e in _PRESIDIO_ENTITIES.values() for e in self.entities):
            for hits, more in zip(found, self._presidio_spans(normalised), strict=True):
                hits.extend(more)
        return [
            self._finish(n.original, [h for h in hits if h[2] in self.entities])
            for n, hits in zip(normalised, found, strict=True)
        ]

    def redact_transcript(
        self, transcript: Transcript, *, max_gap: float = 5.0
    ) -> tuple[Transcript, tuple[tuple[RedactedSpan, ...], ...]]:
        """Redact every segment's text and mask its words (timings kept), per segment spans.

        Digits the ASR split over consecutive segments of one speaker (at most ``max_gap``
        seconds apart) are joined before classification, so "4472 1111" + "1111 1114"
        is still a card number.
        """
        segments = transcript.segments
        spans = self.find_spans([s.text for s in segments])
        extras = split_runs(segments, max_gap)
        for index, hits in answers(segments).items():
            extras.setdefault(index, []).extend(hits)
        for index, extra in extras.items():
            if extra := [h for h in extra if h[2] in self.entities]:
                known = [(s.start, s.end, s.entity) for s in spans[index]]
                spans[index] = self._finish(segments[index].text, known + extra)
        redacted = tuple(
            redact_segment(seg, sp, self.placeholder) if sp else seg
            for seg, sp in zip(segments, spans, strict=True)
        )
        return replace(transcript, segments=redacted), tuple(spans)

    def _finish(self, text: str, hits: list[tuple[int, int, str]]) -> tuple[RedactedSpan, ...]:
        return tuple(RedactedSpan(s, e, ent, text[s:e]) for s, e, ent in merge_spans(text, hits))

    def _presidio_spans(self, normalised: list[NormalisedText]) -> Iterator[list]:
        analyzer = self._load()
        wanted = [p for p, ours in _PRESIDIO_ENTITIES.items() if ours in self.entities]
        texts = [n.text for n in normalised]
        batch = analyzer.nlp_engine.process_batch(texts, self.language, batch_size=64)
        for norm, (_text, artifacts) in zip(normalised, batch, strict=True):
            results = analyzer.analyze(
                norm.text, self.language, entities=wanted, nlp_artifacts=artifacts,
                score_threshold=self.score_threshold,
            )  # fmt: skip
            yield [
                (*norm.to_original(r.start, r.end), _PRESIDIO_ENTITIES[r.entity_type])
                for r in results
                if r.end > r.start
                and (
                    r.entity_type not in _NER_ENTITIES or self._is_name(norm.text[r.start : r.end])
                )
            ]

    def _is_name(self, text: str) -> bool:
        """False for allowed words and for "names" without letters ("03/03/2024" as a place)."""
        key = text.lower().removeprefix("the ").strip()
        return bool(_LETTER.search(text)) and key not in self.allow

    def _load(self) -> Any:
        if self._analyzer is None:
            self._analyzer = load_analyzer(self.spacy_model, self.language)
        return self._analyzer
