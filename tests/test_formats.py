"""transcribe.formats (exact JSON / text / SRT / VTT) and the ad hoc ``qa asr`` command."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # the bundled model only; nothing may reach the Hub

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from qa.commands.asr import AsrFormat, asr
from transcribe import CallMetricsResult, Segment, Transcript, Word, compute_metrics
from transcribe.formats import FORMATS, clock, render, timestamp, to_json, to_srt, to_text, to_vtt

REPO_ROOT = Path(__file__).resolve().parents[1]


def call() -> Transcript:
    """Two parties; markup, an arrow and a line break in the text; a turn past one minute."""
    hello = (
        Word(1.234, 1.6, "Hello,", 0.912345),
        Word(1.7, 2.0, "thanks", 0.8),
        Word(2.1, 2.5, "for", 0.75),
        Word(2.6, 3.4, "calling.", 0.5),
    )
    return Transcript(
        duration=65.5,
        segments=(
            Segment(1.234, 3.4, "agent", "Hello, thanks for calling.", hello, 0.74),
            Segment(3.5, 5.0, "customer", "Hi <b>there</b> & --> bye", (), 0.6),
            Segment(61.95, 65.0004, "agent", "Bye\nnow.", (), None),
        ),
        engine="faster-whisper",
        model="tiny.en",
        language="en",
    )


def mono() -> Transcript:
    return Transcript(2.0, (Segment(0.0, 1.5, "unknown", "Just one voice."),), "e", "m", None)


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("seconds", "vtt", "srt", "text"),
    [
        (0.0, "00:00:00.000", "00:00:00,000", "00:00.0"),
        (1.234, "00:00:01.234", "00:00:01,234", "00:01.2"),
        (61.95, "00:01:01.950", "00:01:01,950", "01:01.9"),  # text truncates tenths
        (59.9996, "00:01:00.000", "00:01:00,000", "00:59.9"),
        (3725.5, "01:02:05.500", "01:02:05,500", "1:02:05.5"),
        (-0.2, "00:00:00.000", "00:00:00,000", "00:00.0"),
    ],
)
def test_timestamps(seconds: float, vtt: str, srt: str, text: str) -> None:
    assert timestamp(seconds) == vtt
    assert timestamp(seconds, ",") == srt
    assert clock(seconds) == text


# ---------------------------------------------------------------- exact renderings


def test_text_lines_are_speaker_labelled() -> None:
    assert to_text(call()) == (
        "[00:01.2] agent: Hello, thanks for calling.\n"
        "[00:03.5] customer: Hi <b>there</b> & --> bye\n"
        "[01:01.9] agent: Bye now.\n"
    )
    assert to_text(mono()) == "[00:00.0] unknown: Just one voice.\n"


def test_srt() -> None:
    assert to_srt(call()) == (
        "1\n00:00:01,234 --> 00:00:03,400\nagent: Hello, thanks for calling.\n"
        "\n"
        "2\n00:00:03,500 --> 00:00:05,000\ncustomer: Hi <b>there</b> & -> bye\n"
        "\n"
        "3\n00:01:01,950 --> 00:01:05,000\nagent: Bye now.\n"
    )
    assert to_srt(mono()) == "1\n00:00:00,000 --> 00:00:01,500\nJust one voice.\n"


def test_vtt_escapes_markup_and_names_the_voice() -> None:
    assert to_vtt(call()) == (
        "WEBVTT\n"
        "\n"
        "00:00:01.234 --> 00:00:03.400\n<v agent>agent: Hello, thanks for calling.</v>\n"
        "\n"
        "00:00:03.500 --> 00:00:05.000\n"
        "<v customer>customer: Hi &lt;b&gt;there&lt;/b&gt; &amp; --&gt; bye</v>\n"
        "\n"
        "00:01:01.950 --> 00:01:05.000\n<v agent>agent: Bye now.</v>\n"
    )
    assert to_vtt(mono()) == "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nJust one voice.\n"


def test_empty_transcript_renders_empty_documents() -> None:
    silent = Transcript(4.0, (), "e", "m", "en")
    assert to_text(silent) == ""
    assert to_srt(silent) == ""
    assert to_vtt(silent) == "WEBVTT\n"
    assert to_json(silent, file="q.wav")["segments"] == []


def test_json_shape_is_exact() -> None:
    metrics = CallMetricsResult(1.5, 2.0, 3.0, 2.5, 0.25, 100.0, None, {"holds": [(1.0, 9.0)]})
    assert to_json(call(), file=Path("calls/c1.wav"), metrics=metrics) == {
        "file": "calls/c1.wav",
        "duration": 65.5,
        "engine": "faster-whisper",
        "model": "tiny.en",
        "text": "Hello, thanks for calling. Hi <b>there</b> & --> bye Bye\nnow.",
        "segments": [
            {
                "start": 1.234,
                "end": 3.4,
                "speaker": "agent",
                "text": "Hello, thanks for calling.",
                "words": [
                    {"start": 1.234, "end": 1.6, "word": "Hello,", "probability": 0.9123},
                    {"start": 1.7, "end": 2.0, "word": "thanks", "probability": 0.8},
                    {"start": 2.1, "end": 2.5, "word": "for", "probability": 0.75},
                    {"start": 2.6, "end": 3.4, "word": "calling.", "probability": 0.5},
                ],
            },
            {
                "start": 3.5,
                "end": 5.0,
                "speaker": "customer",
                "text": "Hi <b>there</b> & --> bye",
                "words": [],
            },
            {"start": 61.95, "end": 65.0, "speaker": "agent", "text": "Bye\nnow.", "words": []},
        ],
        "metrics": {
            "agent_talk_seconds": 1.5,
            "customer_talk_seconds": 2.0,
            "silence_seconds": 3.0,
            "longest_silence_seconds": 2.5,
            "overtalk_seconds": 0.25,
            "agent_wpm": 100.0,
            "customer_wpm": None,
            "holds": [[1.0, 9.0]],
        },
    }


def test_json_text_round_trips_real_metrics() -> None:
    rendered = render("json", call(), file="c1.wav", metrics=compute_metrics(call()))
    data = json.loads(rendered)
    assert list(data) == ["file", "duration", "engine", "model", "text", "segments", "metrics"]
    assert data["metrics"]["agent_talk_seconds"] == 5.216  # 2.166 + 3.05, rounded to ms
    assert data["metrics"]["holds"] == [] and data["metrics"]["hold_seconds"] == 0.0
    assert {"silences_over_5s", "long_silences", "interruptions"} <= set(data["metrics"])


def test_unknown_format_lists_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown output format 'docx'; valid formats: json, "):
        render("docx", call())
    assert list(FORMATS) == ["json", "text", "srt", "vtt"]
    assert [f.value for f in AsrFormat] == list(FORMATS)  # the CLI's choices stay in step


# ---------------------------------------------------------------- the qa asr command


def asr_app() -> typer.Typer:
    """``asr`` registered as a subcommand the way ``qa.cli`` registers it."""
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Group mode, so the command is invoked as ``asr FILE``."""

    app.command("asr")(asr)
    return app


def run_asr(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(asr_app(), ["asr", *args])


def test_asr_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_asr(str(tmp_path / "gone.wav"))
    assert result.exit_code == 1
    assert "gone.wav: file not found" in result.stderr
    assert result.stdout == ""


def test_asr_non_audio_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("not a recording\n" * 50)
    result = run_asr(str(path))
    assert result.exit_code == 1
    assert "notes.wav: not decodable as audio" in result.stderr


def test_asr_unknown_engine_lists_the_engines(tmp_path: Path) -> None:
    result = run_asr(str(tmp_path / "x.wav"), "--engine", "whisperx")
    assert result.exit_code == 1
    assert "unknown ASR engine 'whisperx'; valid engines: faster-whisper" in result.stderr


def test_asr_option_the_engine_lacks_is_a_clear_error(tmp_path: Path) -> None:
    result = run_asr(str(tmp_path / "x.wav"), "--engine", "openai-whisper", "--batch-size", "8")
    assert result.exit_code == 1
    assert "engine 'openai-whisper' does not take batch_size" in result.stderr


def test_asr_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    result = run_asr(str(tmp_path / "x.wav"), "--format", "docx")
    assert result.exit_code == 2
    assert "json" in result.stderr and "vtt" in result.stderr


@pytest.mark.slow
def test_asr_stereo_json_and_vtt(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "speech_samples" / "stereo_diarization.wav"
    result = run_asr(str(path), "--model", "tiny.en")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["file"] == str(path) and data["duration"] == 5.0
    assert (data["engine"], data["model"]) == ("faster-whisper", "tiny.en")
    assert {s["speaker"] for s in data["segments"]} == {"agent", "customer"}
    agent = " ".join(s["text"] for s in data["segments"] if s["speaker"] == "agent").lower()
    assert "wizard" in agent and "horizon" not in agent
    assert all(s["words"] and set(s["words"][0]) == {"start", "end", "word", "probability"}
               for s in data["segments"])  # fmt: skip
    assert data["metrics"]["agent_talk_seconds"] > data["metrics"]["customer_talk_seconds"] > 1
    assert "real time" in result.stderr

    out = tmp_path / "call.vtt"
    result = run_asr(str(path), "-f", "vtt", "--agent-channel", "right", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    vtt = out.read_text()
    assert vtt.startswith("WEBVTT\n\n00:00:00.")
    assert "<v agent>agent: The horizon" in vtt and "<v customer>customer: He began" in vtt


@pytest.mark.slow
def test_asr_as_a_process_keeps_stdout_clean(shared_data: Path) -> None:
    """The real entry point: stdout is exactly the document, progress goes to stderr."""
    from qa.cli import app

    registered = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    entry = ["-m", "qa", "asr"] if "asr" in registered else ["-m", "qa.commands.asr"]
    path = shared_data / "speech_samples" / "jfk.flac"
    proc = subprocess.run(
        [sys.executable, *entry, str(path), "--format", "text", "--beam-size", "1"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines and all(line.startswith("[00:") and "] unknown: " in line for line in lines)
    assert "ask not what your country" in proc.stdout.lower()
    assert "qa asr:" in proc.stderr and "qa asr:" not in proc.stdout
