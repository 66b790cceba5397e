"""Call timing metrics from a Transcript's segment and word times (pure functions, no audio).

Definitions (all in seconds; segment intervals are clipped to [0, duration]):
- talk time of a party: length of the union of that party's segment intervals;
- silence: duration minus the union of all segments (any speaker), i.e. the sum of the
  gaps, leading and trailing silence included; longest silence: the longest such gap;
  long silences: the gaps longer than a threshold (default 5 s, configurable);
- overtalk: length of the intersection of agent talk and customer talk;
- words per minute of a party: its words / its talk minutes (None when it never talks);
- an interruption by X of Y: X's turn starts (its first word, else the segment start)
  strictly inside Y's speech. Y's speech comes from Y's word timings where the ASR gave
  them, with pauses under 0.5 s bridged (a breath inside a sentence still holds the
  floor), else from Y's segment intervals; so a long ASR segment spanning a pause does
  not turn an answer given in that pause into an interruption;
- a hold: an agent turn announcing one ("can you hold", "put you on hold", "bear with
  me", "one moment please", ...) followed, within 20 s of that turn's end, by a silence
  on both channels of at least 5 s (configurable); the hold is that silence. The
  announcement is the strong evidence, so the silence needs only be clearly longer than
  a pause between turns; real holds run to minutes, brief "let me check" holds ~5-10 s.
  Contact Lens reports holds from the telephony events; a recording only has the audio,
  so the announcement is what tells a hold from a customer who went quiet.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from transcribe.transcript import CallMetricsResult, Segment, Transcript

LONG_SILENCE_SECONDS = 5.0
HOLD_MIN_SECONDS = 5.0
# How soon after the announcing turn the silence must begin: the customer usually answers
# ("sure, go ahead") and the agent may add a sentence before the line goes quiet.
HOLD_LOOKAHEAD_SECONDS = 20.0
# Pauses between one party's words shorter than this are still that party talking.
FLOOR_GAP_SECONDS = 0.5

# Agent phrases that announce a hold, matched on lower-case text without punctuation.
HOLD_PHRASES = re.compile(
    r"\b(?:"
    r"(?:can|could|would|will) you (?:please )?hold"
    r"|(?:put|place|putting|placing) you on (?:a (?:brief |short |quick )?)?hold"
    r"|(?:please|kindly) hold"
    r"|hold the line|hold on (?:a |one )?(?:sec|second|moment|minute)"
    r"|bear with me"
    r"|one moment please|(?:just )?one moment while"
    r"|(?:just )?a moment please"
    r")\b"
)

Interval = tuple[float, float]


def compute_metrics(
    transcript: Transcript,
    *,
    silence_threshold: float = LONG_SILENCE_SECONDS,
    hold_min_seconds: float = HOLD_MIN_SECONDS,
) -> CallMetricsResult:
    """Talk, silence, overtalk, pace, interruptions and holds of one call.

    `silence_threshold`: a gap longer than this counts in ``extra["long_silences"]``.
    `hold_min_seconds`: the shortest silence after a hold announcement that is a hold.
    See the module docstring for the definitions.
    """
    if silence_threshold < 0 or hold_min_seconds <= 0:
        raise ValueError(
            f"silence_threshold must be >= 0 and hold_min_seconds > 0; got "
            f"{silence_threshold} and {hold_min_seconds}"
        )
    duration = transcript.duration
    by_party = {
        party: [s for s in transcript.segments if s.speaker == party]
        for party in ("agent", "customer")
    }
    agent = union(_intervals(by_party["agent"], duration))
    customer = union(_intervals(by_party["customer"], duration))
    speech = union(_intervals(transcript.segments, duration))
    gaps = silence_gaps(speech, duration)

    agent_talk = total(agent)
    customer_talk = total(customer)
    both = agent_talk + customer_talk
    agent_words = sum(s.word_count for s in by_party["agent"])
    customer_words = sum(s.word_count for s in by_party["customer"])
    interruptions = interruption_events(by_party["agent"], by_party["customer"], duration)
    holds = detect_holds(by_party["agent"], gaps, hold_min_seconds)
    return CallMetricsResult(
        agent_talk_seconds=agent_talk,
        customer_talk_seconds=customer_talk,
        silence_seconds=total(gaps),
        longest_silence_seconds=float(max((end - start for start, end in gaps), default=0.0)),
        overtalk_seconds=float(overlap(agent, customer)),
        agent_wpm=_wpm(agent_words, agent_talk),
        customer_wpm=_wpm(customer_words, customer_talk),
        extra={
            "speech_seconds": total(speech),
            "silences_over_5s": _count_longer(gaps, LONG_SILENCE_SECONDS),
            "long_silence_threshold": float(silence_threshold),
            "long_silences": _count_longer(gaps, silence_threshold),
            "agent_talk_ratio": agent_talk / both if both else None,
            "customer_talk_ratio": customer_talk / both if both else None,
            "agent_words": agent_words,
            "customer_words": customer_words,
            "interruptions_by_agent": sum(1 for e in interruptions if e["by"] == "agent"),
            "interruptions_by_customer": sum(1 for e in interruptions if e["by"] == "customer"),
            "interruptions": interruptions,
            "holds": holds,
            "hold_seconds": total(holds),
        },
    )


def interruption_events(
    agent: list[Segment], customer: list[Segment], duration: float
) -> list[dict[str, float | str]]:
    """``{"at", "by", "of"}`` for each turn that starts while the other party speaks."""
    speech = {
        "agent": floor_intervals(agent, duration),
        "customer": floor_intervals(customer, duration),
    }
    events: list[dict[str, float | str]] = []
    for by, of, turns in (("agent", "customer", agent), ("customer", "agent", customer)):
        for s in turns:
            at = s.words[0].start if s.words else s.start
            if any(start < at < end for start, end in speech[of]):
                events.append({"at": float(at), "by": by, "of": of})
    return sorted(events, key=lambda e: (e["at"], e["by"]))


def floor_intervals(segments: Iterable[Segment], duration: float) -> list[Interval]:
    """When a party actually speaks: word spans (pauses < FLOOR_GAP bridged), else segments."""
    spans: list[Interval] = []
    for s in segments:
        if s.words:
            spans.extend((w.start, w.end) for w in s.words)
        else:
            spans.append((s.start, s.end))
    clipped = [(max(0.0, a), min(duration, b)) for a, b in spans]
    return union(((a, b) for a, b in clipped if b >= a), bridge=FLOOR_GAP_SECONDS)


def detect_holds(
    agent: Iterable[Segment], gaps: list[Interval], min_seconds: float = HOLD_MIN_SECONDS
) -> list[Interval]:
    """Silences (both channels) of >= `min_seconds` soon after an agent announces a hold."""
    holds: list[Interval] = []
    for s in agent:
        if not HOLD_PHRASES.search(_plain_text(s.text)):
            continue
        for start, end in gaps:
            if start < s.end:
                continue
            if start > s.end + HOLD_LOOKAHEAD_SECONDS:
                break
            if end - start >= min_seconds:
                if (start, end) not in holds:  # "please hold... bear with me": one hold
                    holds.append((start, end))
                break
    return sorted(holds)


def union(intervals: Iterable[Interval], bridge: float = 0.0) -> list[Interval]:
    """Sorted, non-overlapping intervals covering exactly the input (touching ones merge).

    With `bridge` > 0, intervals separated by a gap shorter than `bridge` merge too.
    """
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and (start <= merged[-1][1] or start - merged[-1][1] < bridge):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def total(intervals: Iterable[Interval]) -> float:
    return math.fsum(end - start for start, end in intervals)


def overlap(a: list[Interval], b: list[Interval]) -> float:
    """Length of the intersection of two unions (sorted, non-overlapping lists)."""
    i = j = 0
    length = 0.0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if end > start:
            length += end - start
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return length


def silence_gaps(speech: list[Interval], duration: float) -> list[Interval]:
    """The stretches of [0, duration] that a union of speech intervals leaves uncovered."""
    gaps: list[Interval] = []
    cursor = 0.0
    for start, end in speech:
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if duration > cursor:
        gaps.append((cursor, duration))
    return gaps


def _intervals(segments: Iterable[Segment], duration: float) -> list[Interval]:
    clipped = ((max(0.0, s.start), min(duration, s.end)) for s in segments)
    return [(start, end) for start, end in clipped if end > start]


def _wpm(words: int, talk_seconds: float) -> float | None:
    return words / (talk_seconds / 60.0) if talk_seconds > 0 else None


def _count_longer(gaps: Iterable[Interval], seconds: float) -> int:
    return sum(1 for start, end in gaps if end - start > seconds)


def _plain_text(text: str) -> str:
    """Lower case, apostrophes kept, other punctuation -> spaces, whitespace collapsed."""
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())
