"""PII redaction: spoken-number normalisation, digit-run rules, transcript masking, audio
redaction (fast), and the real Presidio + spaCy pipeline (slow, loaded once per module)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from transcribe.audio import AudioError
from transcribe.audio_redact import (
    BEEP_HZ,
    BEEP_LEVEL,
    redact_audio,
    spans_for_channels,
    write_redacted_copy,
)
from transcribe.digit_runs import DigitRun, classify_digit_run, find_digit_runs, luhn_valid
from transcribe.numbers import normalise_numbers
from transcribe.presidio_engine import RedactionError
from transcribe.redact import RedactionMode, Redactor, parse_mode
from transcribe.redact_words import redacted_time_spans, word_char_spans
from transcribe.spans import RedactedSpan, apply_spans
from transcribe.transcript import Segment, Transcript, Word

CARD_WORDS = "four four seven two one one one one one one one one one one one four"

# ---------------------------------------------------------------- numbers.normalise_numbers


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        (CARD_WORDS, "4472111111111114"),
        ("five five five one two three four five six seven", "5551234567"),
        ("double five, triple oh, eight", "550008"),
        ("five oh five", "505"),
        ("one eight hundred five five five one two one two", "18005551212"),
        ("one hundred and five", "105"),
        ("forty two elm street", "42 elm street"),
        ("two thousand and twenty four", "2024"),
        ("nineteen ninety nine", "1999"),
        ("call 555 one two three 4567", "call 5551234567"),
        ("john dot smith at example dot com", "john.smith@example.com"),
        ("mary underscore jones at mail dot co dot uk", "mary_jones@mail.co.uk"),
    ],
)
def test_normalise_rewrites_spoken_numbers(spoken: str, expected: str) -> None:
    assert normalise_numbers(spoken).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "I waited forty minutes",
        "two or three times",
        "option 2",
        "five o'clock",
        "oh I see, someone said one",
        "I was looking at example dot com",
        "it cost $45.20 on March 3rd",
    ],
)
def test_normalise_leaves_ordinary_text_alone(text: str) -> None:
    norm = normalise_numbers(text)
    assert norm.text == text
    assert norm.starts == tuple(range(len(text)))
    assert norm.ends == tuple(range(1, len(text) + 1))


def test_normalised_offsets_map_back_to_the_original_words() -> None:
    norm = normalise_numbers("call four four seven now")
    assert norm.text == "call 447 now"
    assert norm.to_original(5, 8) == (5, 20)  # "four four seven"
    assert norm.to_original(6, 7) == (10, 14)  # the second "four"
    assert norm.to_original(8, 12) == (20, 24)  # " now" keeps its own characters
    assert norm.to_original(0, 4) == (0, 4)


def test_normalised_email_maps_to_the_whole_spoken_address() -> None:
    text = "it's john dot smith at example dot com thanks"
    norm = normalise_numbers(text)
    start = norm.text.index("john")
    end = start + len("john.smith@example.com")
    assert norm.text[start:end] == "john.smith@example.com"
    assert norm.to_original(start, end) == (5, 38)
    assert text[5:38] == "john dot smith at example dot com"


def test_normalise_random_word_salad_keeps_a_consistent_map() -> None:
    import random

    vocab = [
        "one", "two", "five", "oh", "o", "double", "triple", "hundred", "thousand", "and",
        "twenty", "nineteen", "42", "555", "-", ",", ".", "dot", "at", "com", "john", "I'm",
        "card", "number", "the",
    ]  # fmt: skip
    rng = random.Random(7)
    for _ in range(300):
        text = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 14)))
        norm = normalise_numbers(text)
        assert len(norm.text) == len(norm.starts) == len(norm.ends)
        assert list(norm.starts) == sorted(norm.starts)
        assert all(0 <= s < e <= len(text) for s, e in zip(norm.starts, norm.ends, strict=True))
        for run in find_digit_runs(norm.text):
            start, end = norm.to_original(run.start, run.end)
            assert 0 <= start < end <= len(text)


def test_to_original_rejects_an_empty_span() -> None:
    with pytest.raises(ValueError, match="outside the normalised text"):
        normalise_numbers("abc").to_original(2, 2)


# ---------------------------------------------------------------- digit runs


def test_digit_runs_join_groups_and_keep_brackets() -> None:
    runs = find_digit_runs("call (555) 123-4567 or 4111 1111, at 10:30")
    assert runs[0] == DigitRun(5, 19, "5551234567", (3, 3, 4))
    assert runs[1].digits == "41111111"
    assert [r.digits for r in runs[2:]] == ["10", "30"]  # a clock time is two runs


def test_luhn() -> None:
    assert luhn_valid("4472111111111114")
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4472111111111118")
    assert not luhn_valid("")


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("card 4472111111111114", "CREDIT_CARD"),
        ("card 4472111111111118", "ACCOUNT_NUMBER"),  # 16 digits, not Luhn-valid
        ("it is 123-45-6789", "US_SSN"),
        ("last four of my social are 6789", "US_SSN"),
        ("my account number is 12345678", "ACCOUNT_NUMBER"),
        ("policy 9876543", "ACCOUNT_NUMBER"),
        ("reach me at 555 123 4567", "PHONE_NUMBER"),
        ("my number is 5551234", "PHONE_NUMBER"),
        ("the pin is 1234", "SECURITY_CODE"),
        ("my zip code is 94107", "STREET_ADDRESS"),
        ("it's plus 447700900123", "PHONE_NUMBER"),
        ("it's +44 7700 900123", "PHONE_NUMBER"),
        ("option 2", None),
        ("I waited 40 minutes", None),
        ("it was $1234567890", None),
        ("that is 5551234567 dollars", None),
        ("on 2024-03-15", None),
        ("about 5551234", None),  # seven digits need a phone cue
    ],
)
def test_classify_digit_run(text: str, entity: str | None) -> None:
    runs = find_digit_runs(text)
    longest = max(runs, key=lambda r: len(r.digits))
    assert classify_digit_run(longest, text) == entity


# ---------------------------------------------------------------- Redactor without Presidio


@pytest.fixture
def rules_only() -> Redactor:
    """A Redactor whose Presidio step finds nothing: the number / address / name rules only."""
    redactor = Redactor()
    redactor._presidio_spans = lambda normalised: iter([[] for _ in normalised])  # type: ignore[method-assign]
    return redactor


def test_importing_redaction_loads_no_models() -> None:
    code = (
        "import sys, transcribe.redact, transcribe.audio_redact\n"
        "print(sorted({'presidio_analyzer', 'spacy', 'av', 'torch'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_redactor_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match=r"unknown entities.*valid entities: CREDIT_CARD"):
        Redactor(entities=("CREDIT_CARD", "SHOE_SIZE"))
    with pytest.raises(ValueError, match="unsupported language 'de'"):
        Redactor(language="de")
    with pytest.raises(ValueError, match="bad placeholder"):
        Redactor(placeholder="[{kind}]")
    assert Redactor(placeholder="***")._analyzer is None  # construction loads nothing


def test_modes() -> None:
    assert parse_mode("redacted") is RedactionMode.REDACTED
    assert parse_mode("redacted+original") is RedactionMode.REDACTED_AND_ORIGINAL
    with pytest.raises(ValueError, match="valid modes: redacted, redacted\\+original"):
        parse_mode("none")


def test_rules_redact_spoken_card_with_original_offsets(rules_only: Redactor) -> None:
    text = f"sure it's {CARD_WORDS} okay"
    result = rules_only.redact(text)
    assert result.text == "sure it's [CREDIT_CARD] okay"
    assert result.spans == (RedactedSpan(10, 10 + len(CARD_WORDS), "CREDIT_CARD", CARD_WORDS),)


def test_rules_find_address_name_and_security_code(rules_only: Redactor) -> None:
    result = rules_only.redact(
        "my name is sarah connor and i live at forty two elm street, the cvv is seven three two"
    )
    assert result.text == (
        "my name is [PERSON] and i live at [STREET_ADDRESS], the cvv is [SECURITY_CODE]"
    )
    assert [s.original for s in result.spans] == [
        "sarah connor", "forty two elm street", "seven three two",
    ]  # fmt: skip
    assert rules_only.redact("it's 5 minutes down the road").spans == ()


def test_rules_find_introduced_names(rules_only: Redactor) -> None:
    result = rules_only.redact(
        "Hi, I'm Crystal Minh and I'm sorry, my name is jennifer how are you"
    )
    assert [(s.entity, s.original) for s in result.spans] == [
        ("PERSON", "Crystal Minh"), ("PERSON", "jennifer"),
    ]  # fmt: skip


def test_entities_filter_and_placeholder(rules_only: Redactor) -> None:
    rules_only.entities = ("PHONE_NUMBER",)
    rules_only.placeholder = "<{entity}>"
    result = rules_only.redact("account 12345678, phone 555 123 4567")
    assert result.text == "account 12345678, phone <PHONE_NUMBER>"


def test_apply_spans() -> None:
    spans = (RedactedSpan(4, 8, "PERSON", "Anna"), RedactedSpan(0, 3, "X", "Hi,"))
    assert apply_spans("Hi, Anna!", spans) == "[X] [PERSON]!"
    assert apply_spans("Hi, Anna!", spans, "#") == "# #!"


# ---------------------------------------------------------------- transcripts


def words_of(text: str, start: float, step: float = 0.5) -> tuple[Word, ...]:
    return tuple(
        Word(start + i * step, start + (i + 1) * step, w, 0.9) for i, w in enumerate(text.split())
    )


def segment(start: float, speaker: str, text: str) -> Segment:
    words = words_of(text, start)
    return Segment(start, words[-1].end, speaker, text, words, 0.9)


def test_transcript_words_masked_and_timings_kept(rules_only: Redactor) -> None:
    original = Transcript(
        30.0,
        (
            segment(0.0, "agent", "can I have the card number"),
            segment(4.0, "customer", f"yes {CARD_WORDS}"),
        ),
        "test", "none", "en",
    )  # fmt: skip
    redacted, spans = rules_only.redact_transcript(original)
    assert spans[0] == ()
    assert redacted.segments[0] == original.segments[0]
    customer = redacted.segments[1]
    assert customer.text == "yes [CREDIT_CARD]"
    assert [w.text for w in customer.words] == ["yes"] + ["[CREDIT_CARD]"] * 16
    assert [(w.start, w.end) for w in customer.words] == [
        (w.start, w.end) for w in original.segments[1].words
    ]
    assert redacted_time_spans(original, spans) == {"customer": [(4.5, 12.5)]}


def test_digits_split_across_segments_of_one_speaker(rules_only: Redactor) -> None:
    original = Transcript(
        40.0,
        (
            segment(0.0, "customer", "it's four four seven two one one one one"),
            segment(5.0, "agent", "mhm"),
            segment(6.0, "customer", "one one one one one one one four"),
            segment(20.0, "customer", "one two three"),  # too late to belong to the card
        ),
        "test", "none", "en",
    )  # fmt: skip
    redacted, spans = rules_only.redact_transcript(original)
    assert redacted.segments[0].text == "it's [CREDIT_CARD]"
    assert redacted.segments[2].text == "[CREDIT_CARD]"
    assert redacted.segments[3].text == "one two three"
    assert spans[0][0].original == "four four seven two one one one one"
    assert redacted_time_spans(original, spans) == {"customer": [(0.5, 4.5), (6.0, 10.0)]}


def test_answer_to_a_name_question_is_a_name(rules_only: Redactor) -> None:
    original = Transcript(
        20.0,
        (
            segment(0.0, "agent", "sure, may I have your full name or account ID please?"),
            segment(3.0, "customer", "Yeah, it's Alessandro Phoenix."),
            segment(5.0, "customer", "aphoenix939"),
            segment(6.0, "agent", "thanks, and the reason for the call?"),
            segment(9.0, "customer", "Wrong size."),
        ),
        "test", "none", "en",
    )  # fmt: skip
    redacted, _spans = rules_only.redact_transcript(original)
    assert [s.text for s in redacted.segments][1:] == [
        "Yeah, it's [PERSON].", "[ACCOUNT_NUMBER]", "thanks, and the reason for the call?",
        "Wrong size.",
    ]  # fmt: skip
    assert [w.text for w in redacted.segments[1].words] == [
        "Yeah,", "it's", "[PERSON]", "[PERSON]",
    ]  # fmt: skip


def test_segment_without_words_is_silenced_whole(rules_only: Redactor) -> None:
    seg = Segment(1.0, 3.0, "unknown", "my pin is 1234")
    original = Transcript(5.0, (seg,), "test", "none", "en")
    redacted, spans = rules_only.redact_transcript(original)
    assert redacted.segments[0].text == "my pin is [SECURITY_CODE]"
    assert redacted_time_spans(original, spans) == {"unknown": [(1.0, 3.0)]}


def test_word_char_spans_survive_mismatched_words() -> None:
    words = words_of("hello there wrld friend", 0.0)
    assert word_char_spans("hello there world friend", words) == [
        (0, 5), (6, 11), (11, 18), (18, 24),
    ]  # fmt: skip


# ---------------------------------------------------------------- audio redaction


def test_redact_audio_silences_exact_samples() -> None:
    left, right = np.ones(40, np.float32), np.full(40, 0.5, np.float32)
    out = redact_audio([left, right], 8, [[(1.0, 1.5)], [(0.0, 0.125), (4.5, 9.0)]], pad=0.25)
    assert np.flatnonzero(out[0] == 0).tolist() == list(range(6, 14))  # 0.75 s .. 1.75 s
    assert np.flatnonzero(out[1] == 0).tolist() == [0, 1, 2, *range(34, 40)]  # clipped at edges
    assert left.min() == 1.0  # the input is not modified


def test_redact_audio_beep_replaces_only_the_span() -> None:
    signal = np.full(16000, 0.5, np.float32)
    out = redact_audio([signal], 16000, [[(0.5, 0.75)]], "beep", pad=0.0)[0]
    t = np.arange(8000, 12000) / 16000
    np.testing.assert_allclose(
        out[8000:12000], BEEP_LEVEL * np.sin(2 * np.pi * BEEP_HZ * t), atol=1e-6
    )
    assert (out[:8000] == 0.5).all() and (out[12000:] == 0.5).all()


def test_redact_audio_rejects_bad_input() -> None:
    one = [np.zeros(10, np.float32)]
    with pytest.raises(ValueError, match="valid modes: silence, beep"):
        redact_audio(one, 8, [[]], "bleep")
    with pytest.raises(ValueError, match="1 span lists for 2 channels"):
        redact_audio(one * 2, 8, [[]])
    with pytest.raises(ValueError, match="ends before it starts"):
        redact_audio(one, 8, [[(1.0, 0.5)]])


def test_spans_for_channels() -> None:
    spans = {"agent": [(1.0, 2.0)], "customer": [(3.0, 4.0)], "unknown": [(5.0, 6.0)]}
    assert spans_for_channels(spans, 2, "right") == [
        [(3.0, 4.0), (5.0, 6.0)], [(1.0, 2.0), (5.0, 6.0)],
    ]  # fmt: skip
    assert spans_for_channels(spans, 1) == [[(1.0, 2.0), (3.0, 4.0), (5.0, 6.0)]]
    with pytest.raises(ValueError, match="valid: left, right"):
        spans_for_channels(spans, 2, "centre")


def _stereo_wav(path: Path, rate: int = 8000, seconds: float = 3.0) -> Path:
    t = np.arange(int(rate * seconds)) / rate
    frames = np.stack([np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 500 * t)], axis=1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((frames * 16000).astype("<i2").tobytes())
    return path


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, w.getnchannels())
        return data, w.getframerate()


def test_write_redacted_wav_copy(tmp_path: Path) -> None:
    src = _stereo_wav(tmp_path / "call.wav")
    spans = {"agent": [(1.0, 1.5)], "customer": [(2.0, 2.25)]}
    dst = write_redacted_copy(src, tmp_path / "call.redacted.wav", spans, "right", pad=0.125)
    data, rate = _read_wav(dst)
    original, _ = _read_wav(src)
    assert rate == 8000 and data.shape == original.shape
    agent, customer = data[:, 1], data[:, 0]
    assert (agent[7000:13000] == 0).all() and (customer[15000:19000] == 0).all()
    np.testing.assert_array_equal(agent[:7000], original[:7000, 1])
    np.testing.assert_array_equal(agent[13000:], original[13000:, 1])
    np.testing.assert_array_equal(customer[:15000], original[:15000, 0])
    assert not list(tmp_path.glob(".*.part"))


def test_write_redacted_ogg_copy(tmp_path: Path) -> None:
    from transcribe.audio import load_audio

    src = _stereo_wav(tmp_path / "call.wav")
    dst = write_redacted_copy(src, tmp_path / "call.ogg", {"agent": [(1.0, 1.5)]}, mode="silence")
    left, right = load_audio(dst, sample_rate=8000)
    assert np.abs(left[int(0.95 * 8000) : int(1.55 * 8000)]).max() < 0.02
    assert np.abs(left[4000:7000]).max() > 0.3 and np.abs(right[8000:12000]).max() > 0.3


def test_write_redacted_copy_errors(tmp_path: Path) -> None:
    src = _stereo_wav(tmp_path / "call.wav")
    with pytest.raises(ValueError, match=re.escape("unsupported output format '.mp3'")):
        write_redacted_copy(src, tmp_path / "out.mp3", {})
    with pytest.raises(ValueError, match="refusing to overwrite"):
        write_redacted_copy(src, src, {})
    with pytest.raises(AudioError, match="file not found"):
        write_redacted_copy(tmp_path / "missing.wav", tmp_path / "out.wav", {})
    (tmp_path / "junk.wav").write_bytes(b"not audio at all" * 10)
    with pytest.raises(AudioError, match="not decodable"):
        write_redacted_copy(tmp_path / "junk.wav", tmp_path / "out.wav", {})


# ---------------------------------------------------------------- real Presidio + spaCy


NETWORK_ATTEMPTS: list[tuple[object, ...]] = []


def _no_network(*args: object, **_kwargs: object) -> None:
    NETWORK_ATTEMPTS.append(args)  # recorded: a library may swallow the error below
    raise OSError("tests/test_redact.py: no network for redaction")


@pytest.fixture(scope="module")
def redactor() -> Iterator[Redactor]:
    """The real pipeline, loaded once, with every socket connection made to fail."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _no_network)
        patch.setattr(socket, "create_connection", _no_network)
        patch.setattr(socket, "getaddrinfo", _no_network)
        red = Redactor()
        red.redact("warm up: my email is a.b@example.com, call 555 123 4567, I'm Ann Lee")
        yield red


@pytest.mark.slow
def test_nothing_is_downloaded(redactor: Redactor) -> None:
    redactor.redact("write to jane dot doe at example dot org or john@mail.example.co.uk")
    assert NETWORK_ATTEMPTS == []
    with pytest.raises(RedactionError, match="'en_core_web_lg' is not installed"):
        Redactor(spacy_model="en_core_web_lg").redact("hello")


POSITIVE = [
    (f"my card number is {CARD_WORDS}", "CREDIT_CARD", CARD_WORDS),
    ("4111 1111 1111 1111", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("call me back on 555 123 4567", "PHONE_NUMBER", "555 123 4567"),
    ("five five five one two three four five six seven", "PHONE_NUMBER",
     "five five five one two three four five six seven"),
    ("my email is john dot smith at example dot com", "EMAIL_ADDRESS",
     "john dot smith at example dot com"),
    ("you can write to jane.doe@example.org", "EMAIL_ADDRESS", "jane.doe@example.org"),
    ("my name is Sarah Connor and I live at 42 Elm Street", "PERSON", "Sarah Connor"),
    ("my name is Sarah Connor and I live at 42 Elm Street", "STREET_ADDRESS", "42 Elm Street"),
    ("my social is 123-45-6789", "US_SSN", "123-45-6789"),
    ("my member number is double four seven oh one two nine", "ACCOUNT_NUMBER",
     "double four seven oh one two nine"),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("text", "entity", "original"), POSITIVE)
def test_presidio_redacts(redactor: Redactor, text: str, entity: str, original: str) -> None:
    result = redactor.redact(text)
    assert (entity, original) in [(s.entity, s.original) for s in result.spans]
    assert original not in result.text and f"[{entity}]" in result.text


NEGATIVE = [
    "I waited forty minutes",
    "I called two or three times about it",
    "press option 2 for billing",
    "the bill was $45.20 and then $120",
    "I paid on March 3rd 2024, that's 03/03/2024",
    "okay let me transfer you to billing",
    "it has been 45 minutes and nobody called back",
    "Do you take Visa or Mastercard? I'm in the US.",
]


@pytest.mark.slow
@pytest.mark.parametrize("text", NEGATIVE)
def test_presidio_leaves_ordinary_turns(redactor: Redactor, text: str) -> None:
    result = redactor.redact(text)
    assert result.text == text, result.spans


@pytest.mark.slow
def test_presidio_transcript_redaction(redactor: Redactor) -> None:
    original = Transcript(
        20.0,
        (
            segment(0.0, "agent", "thanks for calling, who am I speaking with"),
            segment(3.0, "customer", "my name is Sarah Connor"),
            segment(6.0, "customer", "and my number is five five five one two three four five six seven"),  # noqa: E501
        ),
        "test", "none", "en",
    )  # fmt: skip
    redacted, spans = redactor.redact_transcript(original)
    assert [s.text for s in redacted.segments] == [
        "thanks for calling, who am I speaking with",
        "my name is [PERSON]",
        "and my number is [PHONE_NUMBER]",
    ]
    assert [w.text for w in redacted.segments[1].words][-2:] == ["[PERSON]", "[PERSON]"]
    assert redacted_time_spans(original, spans) == {"customer": [(4.5, 5.0 + 0.5), (8.0, 13.0)]}


@pytest.mark.slow
def test_qa_asr_redact_masks_names_but_keeps_timings(tmp_path: Path) -> None:
    """`qa asr --redact` masks what the pipeline masks; without it the text is verbatim."""
    import json

    from typer.testing import CliRunner

    from qa.cli import app

    recording = Path(__file__).parents[1] / "qa/demo/data/recordings/C0006.ogg"
    runner = CliRunner()
    outputs = {}
    for flag in ("--redact", "--no-redact"):
        out = tmp_path / f"{flag}.json"
        result = runner.invoke(app, ["asr", str(recording), "-o", str(out), flag])
        assert result.exit_code == 0, result.output
        outputs[flag] = json.loads(out.read_text())
    plain, masked = outputs["--no-redact"], outputs["--redact"]
    assert "Tom" in plain["text"] and "Tom" not in masked["text"]
    assert "[PERSON]" in masked["text"]
    assert [s["start"] for s in masked["segments"]] == [s["start"] for s in plain["segments"]]
    assert masked["metrics"] == plain["metrics"]
