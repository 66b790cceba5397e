"""The default transcriber, comment redactor and tagger every run uses, built from
``Settings``; models load on first use, once per run."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.config import Settings
from qa.stages.pipeline import TranscribedCall

if TYPE_CHECKING:
    from classify.taxonomy import Taxonomy
    from transcribe.options import TranscriptionOptions


def transcription_options(settings: Settings) -> TranscriptionOptions:
    """What ``qa transcribe`` and the nightly run transcribe with: the configured model, the
    engines' defaults for the rest (``qa asr`` builds its own from its flags)."""
    from transcribe.options import TranscriptionOptions

    return TranscriptionOptions(model=settings.asr_model)


def default_transcriber(settings: Settings) -> Callable[[Path], TranscribedCall]:
    """Recording path -> redacted transcript with the configured engine and redaction mode.

    Models (Whisper, Presidio + spaCy) load on first use, once per run.
    """
    from transcribe.engine import make_engine
    from transcribe.turns import transcribe_file

    asr = make_engine(settings.asr_engine, transcription_options(settings))
    transcribe = partial(transcribe_file, engine=asr, agent_channel=settings.agent_channel)
    if settings.redaction == "off":
        return lambda path: TranscribedCall(transcribe(path))
    from transcribe.redact import Redactor
    from transcribe.redact_words import redacted_time_spans

    redactor, keep_original = Redactor(), settings.redaction == "redacted+original"

    def run(path: Path) -> TranscribedCall:
        original = transcribe(path)
        redacted, spans = redactor.redact_transcript(original)
        # Kept so the UI plays the recording with the same words beeped (qa.review.playback).
        audio = redacted_time_spans(original, spans)
        return TranscribedCall(
            redacted,
            original if keep_original else None,
            tuple(spans) if keep_original else (),
            audio_spans=audio,
            agent_channel=settings.agent_channel,
        )

    return run


def default_comment_redactor(settings: Settings) -> Callable[[list[str]], list[str]] | None:
    """Survey comments are redacted at ingest, like transcripts, unless redaction is off."""
    if settings.redaction == "off":
        return None
    from transcribe.redact import Redactor

    redactor = Redactor()
    return lambda texts: [r.text for r in redactor.redact_many(texts)]


def trained_model_path(settings: Settings) -> Path:
    """Where ``qa text train`` / ``qa tag --retrain`` save the learned tagger."""
    from classify.model_store import MODEL_FILE

    return settings.models_dir / "trained" / MODEL_FILE


def learned_model(
    settings: Settings,
    taxonomy: Taxonomy,
    *,
    trained: Path | None = None,
    announce: Callable[[str], Any] | None = None,
) -> tuple[Any, str]:
    """The learned tagger runs use, and a line saying which it is.

    The model trained on reviewers' decisions (``qa tag --retrain`` / ``qa text train``,
    at ``trained``, default ``trained_model_path``) when there is one, else the default
    model built from the example bank (``classify.default_model``; built on first use and
    cached, ``announce`` says so)."""
    from classify.learned import LearnedTagger

    path = trained if trained is not None else trained_model_path(settings)
    if path.is_file():
        return LearnedTagger.load(path), f"rules + trained model {path}"
    from classify.default_model import default_model

    model = default_model(taxonomy=taxonomy, announce=announce)
    return model, "rules + default model (example bank)"


def default_tagger(
    settings: Settings,
    taxonomy_path: Path | None = None,
    *,
    announce: Callable[[str], Any] | None = None,
) -> tuple[Any, str]:
    """The tagger every run uses, and its version string (a new version re-tags every call).

    The taxonomy's rules with the learned model (``learned_model``: the trained one, else
    the default one), callback promises in agent turns, and transfer announcements with
    their reasons.
    """
    from classify.chain import TaggerChain
    from classify.combined import CombinedTagger
    from classify.promises import PromiseTagger
    from classify.rules import RuleTagger
    from classify.transfer_tags import TransferTagger

    taxonomy = default_taxonomy(settings, taxonomy_path)
    model, _ = learned_model(settings, taxonomy, announce=announce)
    combined = CombinedTagger(RuleTagger(taxonomy=taxonomy), model)
    transfers = TransferTagger()
    tagger = TaggerChain([combined, PromiseTagger(), transfers]).fit()
    return tagger, f"rules:{combined.version}+promises:1+{transfers.version}"


def default_taxonomy(settings: Settings, taxonomy_path: Path | None = None) -> Taxonomy:
    """The taxonomy the default tagger uses: ``taxonomy_path``, else
    ``<models_dir>/taxonomy.json`` when there is one, else the shipped default."""
    from classify.taxonomy import load_taxonomy

    path = taxonomy_path or settings.models_dir / "taxonomy.json"
    return load_taxonomy(path if taxonomy_path or path.exists() else None)


def taxonomy_tag_names(settings: Settings) -> tuple[str, ...]:
    """The tag names of the default taxonomy, in its order: the review UI's "add a tag"
    choices (``review_ui`` may not import ``classify`` itself)."""
    return tuple(default_taxonomy(settings).names)
