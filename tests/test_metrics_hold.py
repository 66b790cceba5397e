"""transcribe.metrics additions: long silences, who interrupted whom, announced holds."""

from __future__ import annotations

import pytest

from transcribe import Segment, Transcript, Word, compute_metrics
from transcribe.metrics import HOLD_PHRASES, floor_intervals, union


def seg(start: float, end: float, speaker: str, text: str = "word", words=()) -> Segment:  # type: ignore[no-untyped-def]
    return Segment(start, end, speaker, text, tuple(words), 0.9)


def words(*spans: tuple[float, float]) -> list[Word]:
    return [Word(a, b, f"w{i}", 0.9) for i, (a, b) in enumerate(spans)]


def call(duration: float, *segments: Segment) -> Transcript:
    return Transcript(duration, tuple(segments), "test", "none", "en")


# ---------------------------------------------------------------- long silences


def test_long_silence_threshold_is_configurable() -> None:
    # gaps: 0-1 (1 s), 3-6 (3 s), 8-14 (6 s), 16-18 (2 s)
    t = call(18.0, seg(1, 3, "agent"), seg(6, 8, "customer"), seg(14, 16, "agent"))
    default = compute_metrics(t)
    assert default.extra["long_silence_threshold"] == 5.0
    assert default.extra["long_silences"] == default.extra["silences_over_5s"] == 1
    strict = compute_metrics(t, silence_threshold=1.5)
    assert strict.extra["long_silence_threshold"] == 1.5
    assert strict.extra["long_silences"] == 3  # 3 s, 6 s, 2 s; the 1 s gap is not
    assert strict.extra["silences_over_5s"] == 1  # the fixed 5 s count stays comparable
    assert compute_metrics(t, silence_threshold=6.0).extra["long_silences"] == 0  # "over" is >


def test_thresholds_are_validated() -> None:
    with pytest.raises(ValueError, match="silence_threshold must be >= 0"):
        compute_metrics(call(1.0), silence_threshold=-1)
    with pytest.raises(ValueError, match="hold_min_seconds > 0"):
        compute_metrics(call(1.0), hold_min_seconds=0)


# ---------------------------------------------------------------- interruptions


def test_who_interrupted_whom_with_segment_times() -> None:
    t = call(
        20.0,
        seg(1.0, 5.0, "agent"),
        seg(4.0, 8.0, "customer"),  # customer cuts in on the agent at 4
        seg(7.0, 7.5, "agent"),  # agent cuts back in at 7
        seg(12.0, 15.0, "agent"),
        seg(15.0, 16.0, "customer"),  # starts exactly as the agent stops: a clean handover
    )
    m = compute_metrics(t)
    assert m.extra["interruptions"] == [
        {"at": 4.0, "by": "customer", "of": "agent"},
        {"at": 7.0, "by": "agent", "of": "customer"},
    ]
    assert (m.extra["interruptions_by_agent"], m.extra["interruptions_by_customer"]) == (1, 1)


def test_interruptions_use_word_timings_when_present() -> None:
    # One long customer segment 0-10 whose words leave a pause 2-6: the agent answering
    # at 3 speaks into that pause (no interruption); the agent at 7 talks over words.
    customer = seg(0.0, 10.0, "customer", words=words((0, 1), (1.2, 2), (6, 8), (8.3, 10)))
    answer = seg(3.0, 4.0, "agent", words=words((3.1, 4.0)))
    cut_in = seg(7.0, 9.0, "agent", words=words((7.2, 9.0)))
    m = compute_metrics(call(12.0, customer, answer, cut_in))
    assert m.extra["interruptions"] == [{"at": 7.2, "by": "agent", "of": "customer"}]
    assert m.extra["interruptions_by_customer"] == 0
    # Talk time and overtalk still come from segment intervals (unchanged definitions).
    assert m.customer_talk_seconds == 10.0
    assert m.overtalk_seconds == 3.0


def test_floor_bridges_short_pauses_only() -> None:
    s = seg(0.0, 5.0, "agent", words=words((0, 1), (1.4, 2), (2.6, 3), (4.5, 6)))
    # 1-1.4 (0.4 s) bridged; 2-2.6 (0.6 s) and 3-4.5 kept; clipped to the 5 s recording.
    assert floor_intervals([s], duration=5.0) == [(0, 2), (2.6, 3), (4.5, 5.0)]
    assert union([(0, 1), (1, 2), (3, 4)]) == [(0, 2), (3, 4)]
    assert union([(0, 1), (1.3, 2)], bridge=0.5) == [(0, 2)]


# ---------------------------------------------------------------- holds


def hold_call(pause: float, announcement: str = "Can you hold for a moment, please?") -> Transcript:
    """Agent announces a hold at 10-13, customer agrees 13.5-14, silence, agent returns."""
    back = 14.0 + pause
    return call(
        back + 5.0,
        seg(0.0, 9.0, "customer", "My bill is wrong."),
        seg(10.0, 13.0, "agent", announcement),
        seg(13.5, 14.0, "customer", "Sure."),
        seg(back, back + 2.0, "agent", "Thanks for holding."),
    )


def test_announced_hold_followed_by_silence() -> None:
    m = compute_metrics(hold_call(12.0))
    assert m.extra["holds"] == [(14.0, 26.0)]
    assert m.extra["hold_seconds"] == 12.0
    assert m.longest_silence_seconds == 12.0


def test_hold_needs_the_minimum_silence() -> None:
    assert compute_metrics(hold_call(4.0)).extra["holds"] == []  # default minimum 5 s
    assert compute_metrics(hold_call(5.0)).extra["holds"] == [(14.0, 19.0)]  # >= counts
    m = compute_metrics(hold_call(12.0), hold_min_seconds=30.0)
    assert (m.extra["holds"], m.extra["hold_seconds"]) == ([], 0.0)


def test_silence_without_an_announcement_is_not_a_hold() -> None:
    m = compute_metrics(hold_call(30.0, announcement="Let me look at your account."))
    assert m.extra["holds"] == []
    assert m.longest_silence_seconds == 30.0


def test_only_the_agent_announces_holds() -> None:
    t = call(
        40.0,
        seg(0.0, 3.0, "customer", "Bear with me, I need to find my card."),
        seg(25.0, 27.0, "customer", "Found it."),
    )
    assert compute_metrics(t).extra["holds"] == []


def test_hold_silence_must_follow_the_announcement_soon() -> None:
    t = call(
        80.0,
        seg(0.0, 3.0, "agent", "Please hold."),
        seg(3.5, 30.0, "customer", "Okay, while you look, let me tell you about my router."),
        seg(30.0, 31.0, "agent", "Right."),
        seg(50.0, 52.0, "agent", "Thank you."),  # 31-50 silence starts 28 s after "hold"
    )
    assert compute_metrics(t).extra["holds"] == []


def test_two_announcements_before_one_silence_make_one_hold() -> None:
    t = call(
        60.0,
        seg(0.0, 2.0, "agent", "Let me put you on hold."),
        seg(2.5, 4.0, "agent", "Bear with me."),
        seg(40.0, 42.0, "agent", "Thanks for waiting."),
    )
    m = compute_metrics(t)
    assert m.extra["holds"] == [(4.0, 40.0)]
    assert m.extra["hold_seconds"] == 36.0


def test_two_holds_in_one_call() -> None:
    t = call(
        100.0,
        seg(0.0, 2.0, "agent", "One moment please."),
        seg(10.0, 12.0, "agent", "Thanks. Could you hold again?"),
        seg(13.0, 14.0, "customer", "Yes."),
        seg(34.0, 36.0, "agent", "I'm back."),
    )
    m = compute_metrics(t)
    assert m.extra["holds"] == [(2.0, 10.0), (14.0, 34.0)]
    assert m.extra["hold_seconds"] == 28.0


def test_a_hold_at_the_end_of_the_recording_counts() -> None:
    t = call(30.0, seg(0.0, 3.0, "agent", "I'll place you on a brief hold."))
    assert compute_metrics(t).extra["holds"] == [(3.0, 30.0)]


@pytest.mark.parametrize(
    "text",
    [
        "Can you hold for a moment please?",
        "could you please hold",
        "Let me put you on hold.",
        "I'm going to place you on a short hold",
        "Please hold while I check.",
        "Bear with me.",
        "One moment, please.",
        "Just one moment while I pull that up.",
        "Hold on a second.",
        "Hold the line, please.",
    ],
)
def test_hold_phrases(text: str) -> None:
    plain = " ".join(text.lower().replace(",", " ").replace(".", " ").replace("?", " ").split())
    assert HOLD_PHRASES.search(plain), text


@pytest.mark.parametrize(
    "text",
    [
        "I've been waiting on hold for forty minutes.",
        "Thanks for holding.",
        "What's your account number?",
        "Hold music again.",
    ],
)
def test_not_hold_phrases(text: str) -> None:
    assert not HOLD_PHRASES.search(text.lower().replace(".", "")), text
