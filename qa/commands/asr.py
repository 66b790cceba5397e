"""``qa asr FILE``: transcribe one recording ad hoc (no database) and print it.

The transcript goes to stdout (or ``--output``) as JSON, speaker-labelled text, SRT or
WebVTT; what happened goes to stderr, so ``qa asr call.wav > call.json`` stays clean.
Exit codes: 0 ok, 1 the file, engine, model or an option was unusable (the message says
what, where and the valid choices).

Also runnable without the ``qa`` app: ``python -m qa.commands.asr FILE ...`` (the
benchmark uses this, so it measures exactly this code path as a whole process).
"""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer


class AgentChannel(StrEnum):
    left = "left"
    right = "right"


class AsrFormat(StrEnum):
    """Mirrors transcribe.formats.FORMATS (kept literal so the CLI imports nothing heavy)."""

    json = "json"
    text = "text"
    srt = "srt"
    vtt = "vtt"


def asr(
    file: Annotated[Path, typer.Argument(help="Recording: wav/flac/mp3/ogg/m4a, mono or stereo.")],
    engine: Annotated[
        str, typer.Option(help="ASR engine: faster-whisper or openai-whisper.")
    ] = "faster-whisper",
    model: Annotated[
        str, typer.Option(help="Whisper model: tiny.en, base, or a local model folder.")
    ] = "tiny.en",
    agent_channel: Annotated[
        AgentChannel, typer.Option(help="Stereo channel of the agent.")
    ] = AgentChannel.left,
    format: Annotated[
        AsrFormat, typer.Option("--format", "-f", help="Output format.")
    ] = AsrFormat.json,
    beam_size: Annotated[
        int | None, typer.Option(min=1, help="Beam size, 1 = greedy (engine default).")
    ] = None,
    vad: Annotated[
        bool | None,
        typer.Option("--vad/--no-vad", help="Skip silence with Silero VAD (engine default: on)."),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(min=1, help="Decode this many VAD chunks at once (faster-whisper)."),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(min=1, help="CPU threads per channel worker (default: cores / workers)."),
    ] = None,
    channel_workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="Stereo channels decoded at once (faster-whisper; default 2, 1 = in turn)."
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="cpu, or cuda for a GPU.")] = "cpu",
    compute_type: Annotated[
        str | None,
        typer.Option(help="faster-whisper weights type (int8 on cpu, float16 on cuda)."),
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="Spoken language code, or 'auto' to detect (default: en).")
    ] = None,
    initial_prompt: Annotated[
        str | None, typer.Option(help="Text the first window is conditioned on.")
    ] = None,
    hotwords: Annotated[
        str | None, typer.Option(help="Words to favour, e.g. product names.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact/--no-redact",
            help="Mask card / account / phone numbers, emails, ids, names and addresses "
            "(Presidio + spoken digits), as the pipeline does before storing.",
        ),
    ] = False,
) -> None:
    """Transcribe one recording (no database): turns, word timings and call metrics."""
    from transcribe import AudioError, compute_metrics, make_engine, transcribe_file
    from transcribe.formats import render

    options: dict[str, Any] = {"model": model}
    # Only options the user set are passed: the engine's defaults are the one source of
    # truth, and an engine without an option still works when it is not asked for.
    for key, value in (
        ("beam_size", beam_size),
        ("vad_filter", vad),
        ("batch_size", batch_size),
        ("cpu_threads", threads),
        ("channel_workers", channel_workers),
        ("initial_prompt", initial_prompt),
        ("hotwords", hotwords),
    ):
        if value is not None:
            options[key] = value
    if device != "cpu":
        options["device"] = device
        options["compute_type"] = compute_type or "float16"
    elif compute_type is not None:
        options["compute_type"] = compute_type
    if language is not None:
        options["language"] = None if language.lower() == "auto" else language

    try:
        asr_engine = make_engine(engine, **options)
    except TypeError as exc:  # an option this engine does not take
        raise _fail(f"engine {engine!r} does not accept these options: {exc}") from exc
    except ValueError as exc:  # unknown engine (the message lists the valid ones)
        raise _fail(str(exc)) from exc

    _info(f"transcribing {file} with {_describe(asr_engine)} ...")
    started = time.perf_counter()
    try:
        transcript = transcribe_file(file, asr_engine, agent_channel=agent_channel.value)
    except AudioError as exc:
        raise _fail(str(exc)) from exc
    except (ValueError, FileNotFoundError, RuntimeError) as exc:  # model / option errors
        raise _fail(str(exc)) from exc
    elapsed = time.perf_counter() - started

    metrics = compute_metrics(transcript)  # timings only: the same before or after redaction
    if redact:
        from transcribe.redact import Redactor

        transcript, _spans = Redactor().redact_transcript(transcript)
    rendered = render(format.value, transcript, file=file, metrics=metrics)
    if rendered and not rendered.endswith("\n"):
        rendered += "\n"
    if output is None:
        typer.echo(rendered, nl=False)
    else:
        try:
            output.write_text(rendered, encoding="utf-8")
        except OSError as exc:
            raise _fail(f"{output}: cannot write output ({exc.strerror or exc})") from exc

    layout = "mono" if any(s.speaker == "unknown" for s in transcript.segments) else "stereo"
    speed = transcript.duration / elapsed if elapsed > 0 else float("inf")
    _info(
        f"{transcript.duration:.1f} s of audio ({layout if transcript.segments else 'no speech'})"
        f" -> {len(transcript.segments)} segments in {elapsed:.1f} s ({speed:.1f}x real time)"
        + (f"; written to {output}" if output is not None else "")
    )


def _describe(engine: Any) -> str:
    """``faster-whisper tiny.en, beam 5, VAD on, batch 8`` from what the engine exposes."""
    parts = [f"{engine.name} {engine.model}"]
    beam = getattr(engine, "beam_size", None)
    if beam is not None:
        parts.append("greedy" if beam == 1 else f"beam {beam}")
    vad = getattr(engine, "vad_filter", None)
    if vad is not None:
        parts.append("VAD on" if vad else "VAD off")
    if getattr(engine, "batch_size", None):
        parts.append(f"batch {engine.batch_size}")
    if getattr(engine, "device", "cpu") != "cpu":
        parts.append(f"on {engine.device}")
    return ", ".join(parts)


def _info(message: str) -> None:
    typer.echo(f"qa asr: {message}", err=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


if __name__ == "__main__":
    typer.run(asr)
