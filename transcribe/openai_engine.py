"""openai-whisper backend: the reference PyTorch implementation, from a local checkpoint.

The checkpoint is never downloaded: for "tiny.en" / "base" it is converted from the
installed CTranslate2 weights on first use (transcribe.convert) into
`<models_dir>/whisper-<name>.pt`; a path to a `.pt` file (an official checkpoint the user
already has) or to a CTranslate2 model folder works too. VAD is the same Silero model
faster-whisper uses, applied the same way (speech concatenated, times mapped back), so
both engines see the same audio; hotwords, which openai-whisper lacks, join the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from transcribe.audio import SAMPLE_RATE
from transcribe.models import MODEL_LOCATORS, ModelError, default_models_dir, resolve_model
from transcribe.whisper_base import RawSegment, RawWord, WhisperEngineBase

BEST_OF = 5  # candidates when sampling at temperature > 0 (faster-whisper's default too)


class OpenAIWhisperEngine(WhisperEngineBase):
    """openai-whisper on CPU in float32 (fp16=False), same options as FasterWhisperEngine
    but the faster-whisper ones (compute_type, batch_size, channel_workers).

    cpu_threads > 0 calls torch.set_num_threads, which is process-wide.
    """

    name: ClassVar[str] = "openai-whisper"
    unsupported: ClassVar[tuple[str, ...]] = ("compute_type", "batch_size", "channel_workers")

    def checkpoint_path(self) -> Path:
        """The .pt file this engine loads, converting it from CTranslate2 if missing."""
        return ensure_checkpoint(self.model, self.options.models_dir)

    def _load(self) -> Any:
        import torch
        import whisper

        path = self.checkpoint_path()
        if self.options.cpu_threads:
            torch.set_num_threads(self.options.cpu_threads)  # process-wide: only when asked for
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
            model = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
            model.load_state_dict(checkpoint["model_state_dict"])
        except Exception as exc:  # a corrupt file or a different format: say which file
            raise ModelError(f"{path}: not a loadable openai-whisper checkpoint ({exc})") from exc
        heads = checkpoint.get("alignment_heads") or _official_heads(path)
        if heads is not None:
            model.set_alignment_heads(heads)
        self.check_language(model.is_multilingual)
        return model.to(self.options.device).eval()

    def _prompt(self) -> str | None:
        o = self.options
        parts = [p.strip() for p in (o.initial_prompt, o.hotwords) if p and p.strip()]
        return " ".join(parts) or None

    def _decode(self, audio: np.ndarray) -> Iterable[RawSegment]:
        import whisper

        o = self.options
        chunks = None
        if o.vad_filter:
            from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

            chunks = get_speech_timestamps(audio, VadOptions())
            if not chunks:
                return []
            audio = np.concatenate(collect_chunks(audio, chunks)[0])
        result = whisper.transcribe(
            self._loaded,
            audio,
            language=o.language,
            temperature=o.temperature,
            initial_prompt=self._prompt(),
            condition_on_previous_text=o.condition_on_previous_text,
            word_timestamps=True,
            fp16=False,
            beam_size=o.beam_size if o.beam_size > 1 else None,
            best_of=BEST_OF,
            verbose=None,
        )
        raw = [
            RawSegment(
                s["start"],
                s["end"],
                s["text"],
                [RawWord(w["start"], w["end"], w["word"], w["probability"]) for w in s["words"]],
                s["avg_logprob"],
            )
            for s in result["segments"]
        ]
        return _restore_times(raw, chunks) if chunks else raw


def _restore_times(segments: list[RawSegment], chunks: list[dict]) -> list[RawSegment]:
    """Map times in the VAD-concatenated speech back to the original audio.

    As faster-whisper does: each word is placed by the chunk holding its middle, so its
    start and end move together; a segment spans its first to its last word.
    """
    from faster_whisper.vad import SpeechTimestampsMap

    ts_map = SpeechTimestampsMap(chunks, SAMPLE_RATE)
    out = []
    for seg in segments:
        words = []
        for w in seg.words:
            index = ts_map.get_chunk_index((w.start + w.end) / 2)
            start = ts_map.get_original_time(w.start, index)
            words.append(w._replace(start=start, end=ts_map.get_original_time(w.end, index)))
        if words:
            start, end = words[0].start, words[-1].end
        else:
            start = ts_map.get_original_time(seg.start)
            end = ts_map.get_original_time(seg.end, is_end=True)
        out.append(seg._replace(start=start, end=end, words=words))
    return out


def ensure_checkpoint(model: str, models_dir: str | Path | None = None) -> Path:
    """Path of the openai-whisper checkpoint for `model`, building it if needed.

    `model`: a registered name (tiny.en, base) -> `<models_dir>/whisper-<name>.pt`,
    converted from the CTranslate2 weights when missing; an existing `.pt` file -> itself;
    a CTranslate2 folder -> `<models_dir>/whisper-<folder name>.pt`, converted if missing.
    """
    from transcribe.convert import convert

    models_dir = Path(models_dir) if models_dir else default_models_dir()
    given = Path(str(model)).expanduser()
    if str(model).endswith(".pt"):
        if not given.is_file():
            raise ModelError(f"{model}: checkpoint file not found")
        return given
    if str(model) in MODEL_LOCATORS:
        target = models_dir / f"whisper-{model}.pt"
    elif given.is_dir():
        target = models_dir / f"whisper-{re.sub(r'[^A-Za-z0-9_.-]+', '_', given.name)}.pt"
    else:
        resolve_model(model)  # raises the ModelError naming the valid choices
        raise ModelError(f"{model}: not a model")  # pragma: no cover - resolve raised
    if not target.is_file():
        folder = resolve_model(model, cache_dir=models_dir / "cache")
        try:
            convert(folder, target)
        except OSError as exc:
            raise ModelError(
                f"cannot write {target} ({exc.strerror or exc}); set QA_MODELS_DIR to a "
                "writable folder"
            ) from exc
    return target


def _official_heads(path: Path) -> bytes | None:
    """For an official checkpoint (tiny.en.pt, base.pt, ...): openai-whisper's own heads."""
    import whisper

    return whisper._ALIGNMENT_HEADS.get(path.stem)
