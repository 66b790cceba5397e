"""transcribe: recordings -> Transcript (decode, channel split, ASR, turns, call metrics).

A leaf library: it imports neither `qa` nor `classify`. Importing it is light; PyAV and
faster-whisper load on first use.
"""

from transcribe.audio import SAMPLE_RATE, AudioError, load_audio
from transcribe.engine import ENGINES, FasterWhisperEngine, make_engine
from transcribe.metrics import compute_metrics
from transcribe.models import MODEL_LOCATORS, ModelError, resolve_model
from transcribe.options import TranscriptionOptions
from transcribe.transcript import SPEAKERS, CallMetricsResult, Segment, Transcript, Word
from transcribe.turns import AGENT_CHANNELS, merge_turns, transcribe_file
from transcribe.whisper_base import AsrEngine

__all__ = [
    "AGENT_CHANNELS",
    "ENGINES",
    "MODEL_LOCATORS",
    "SAMPLE_RATE",
    "SPEAKERS",
    "AsrEngine",
    "AudioError",
    "CallMetricsResult",
    "FasterWhisperEngine",
    "ModelError",
    "Segment",
    "Transcript",
    "TranscriptionOptions",
    "Word",
    "compute_metrics",
    "load_audio",
    "make_engine",
    "merge_turns",
    "resolve_model",
    "transcribe_file",
]
