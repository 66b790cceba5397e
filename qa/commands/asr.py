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
from typing import TYPE_CHECKING, Annotated

import typer

from qa.commands.options import Channel, fail

if TYPE_CHECKING:
    from transcribe import Transcript, TranscriptionOptions


class AsrFormat(StrEnum):
    """Mirrors transcribe.formats.FORMATS (kept literal so the CLI imports nothing heavy)."""

    json = "json"
    text = "text"
    srt = "srt"
    vtt = "vtt"


# The decoding flags; unset (None) ones keep TranscriptionOptions' defaults, the one source.
BeamSize = Annotated[
    int | None, typer.Option(min=1, help="Beam size, 1 = greedy (engine default).")
]
Vad = Annotated[
    bool | None,
    typer.Option("--vad/--no-vad", help="Skip silence with Silero VAD (engine default: on)."),
]
BatchSize = Annotated[
    int | None, typer.Option(min=1, help="Decode this many VAD chunks at once (faster-whisper).")
]
Threads = Annotated[
    int | None,
    typer.Option(min=1, help="CPU threads per channel worker (default: cores / workers)."),
]
ChannelWorkers = Annotated[
    int | None,
    typer.Option(
        min=1, help="Stereo channels decoded at once (faster-whisper; default 2, 1 = in turn)."
    ),
]
ComputeType = Annotated[
    str | None, typer.Option(help="faster-whisper weights type (int8 on cpu, float16 on cuda).")
]
Language = Annotated[
    str | None, typer.Option(help="Spoken language code, or 'auto' to detect (default: en).")
]
InitialPrompt = Annotated[str | None, typer.Option(help="Text the first window is conditioned on.")]
Hotwords = Annotated[str | None, typer.Option(help="Words to favour, e.g. product names.")]


def asr(
    file: Annotated[Path, typer.Argument(help="Recording: wav/flac/mp3/ogg/m4a, mono or stereo.")],
    engine: Annotated[
        str, typer.Option(help="ASR engine: faster-whisper or openai-whisper.")
    ] = "faster-whisper",
    model: Annotated[
        str, typer.Option(help="Whisper model: tiny.en, base, or a local model folder.")
    ] = "tiny.en",
    agent_channel: Annotated[
        Channel, typer.Option(help="Stereo channel of the agent.")
    ] = Channel.left,
    format: Annotated[
        AsrFormat, typer.Option("--format", "-f", help="Output format.")
    ] = AsrFormat.json,
    beam_size: BeamSize = None,
    vad: Vad = None,
    batch_size: BatchSize = None,
    threads: Threads = None,
    channel_workers: ChannelWorkers = None,
    device: Annotated[str, typer.Option(help="cpu, or cuda for a GPU.")] = "cpu",
    compute_type: ComputeType = None,
    language: Language = None,
    initial_prompt: InitialPrompt = None,
    hotwords: Hotwords = None,
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
    from transcribe import TranscriptionOptions

    defaults = TranscriptionOptions()
    try:
        options = TranscriptionOptions(
            model=model,
            language=defaults.language if language is None else _language(language),
            beam_size=defaults.beam_size if beam_size is None else beam_size,
            vad_filter=defaults.vad_filter if vad is None else vad,
            batch_size=defaults.batch_size if batch_size is None else batch_size,
            cpu_threads=defaults.cpu_threads if threads is None else threads,
            channel_workers=channel_workers,  # None: the engine's default
            device=device,
            compute_type=compute_type,  # None: int8 on the CPU, float16 on a GPU
            initial_prompt=initial_prompt,
            hotwords=hotwords,
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc
    transcript, elapsed = _transcribe(file, engine, options, agent_channel.value)
    _write(_render(format, transcript, file, redact), output)
    layout = "mono" if any(s.speaker == "unknown" for s in transcript.segments) else "stereo"
    speed = transcript.duration / elapsed if elapsed > 0 else float("inf")
    _info(
        f"{transcript.duration:.1f} s of audio ({layout if transcript.segments else 'no speech'})"
        f" -> {len(transcript.segments)} segments in {elapsed:.1f} s ({speed:.1f}x real time)"
        + (f"; written to {output}" if output is not None else "")
    )


def _language(value: str) -> str | None:
    return None if value.lower() == "auto" else value


def _transcribe(
    file: Path, engine_name: str, options: TranscriptionOptions, agent_channel: str
) -> tuple[Transcript, float]:
    """The transcript and the seconds it took; any unusable engine, option, model or file
    exits 1, saying why."""
    from transcribe import AudioError, make_engine, transcribe_file

    try:
        asr_engine = make_engine(engine_name, options)
    except (TypeError, ValueError) as exc:  # unknown engine, or an option it does not take
        raise fail(str(exc)) from exc
    _info(f"transcribing {file} with {options.describe(engine_name)} ...")
    started = time.perf_counter()
    try:
        transcript = transcribe_file(file, asr_engine, agent_channel=agent_channel)
    except (AudioError, ValueError, FileNotFoundError, RuntimeError) as exc:
        raise fail(str(exc)) from exc  # the file, or model / option errors
    return transcript, time.perf_counter() - started


def _render(format: AsrFormat, transcript: Transcript, file: Path, redact: bool) -> str:
    """The document, redacted if asked; the call metrics are timings only, the same before
    or after redaction."""
    from transcribe import compute_metrics
    from transcribe.formats import render

    metrics = compute_metrics(transcript)
    if redact:
        from transcribe.redact import Redactor

        transcript, _spans = Redactor().redact_transcript(transcript)
    rendered = render(format.value, transcript, file=file, metrics=metrics)
    return rendered if not rendered or rendered.endswith("\n") else rendered + "\n"


def _write(rendered: str, output: Path | None) -> None:
    if output is None:
        typer.echo(rendered, nl=False)
        return
    try:
        output.write_text(rendered, encoding="utf-8")
    except OSError as exc:
        raise fail(f"{output}: cannot write output ({exc.strerror or exc})") from exc


def _info(message: str) -> None:
    typer.echo(f"qa asr: {message}", err=True)


if __name__ == "__main__":
    typer.run(asr)
