"""Rule-based PII detections: digit runs, street addresses, "my name is X" / "username: x"
cues, and in transcripts the turn that answers "may I have your name?" and digits one speaker
spread over several segments. Hits are ``(start, end, entity)`` in ORIGINAL text offsets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from transcribe.digit_runs import classify_digit_run, find_digit_runs
from transcribe.numbers import NormalisedText, normalise_numbers
from transcribe.transcript import Segment

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


def rule_spans(norm: NormalisedText) -> list[tuple[int, int, str]]:
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


def answers(segments: Sequence[Segment]) -> dict[int, list]:
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


def split_runs(segments: Sequence[Segment], max_gap: float) -> dict[int, list]:
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
