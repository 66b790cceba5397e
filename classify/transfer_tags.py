"""Transfer announcements as tag hits on a call's turns.

    from classify.transfer_tags import TransferTagger
    tagger = TransferTagger().fit()
    tagger.tag_conversations([[("customer", "My bill is wrong"),
                               ("agent", "Let me put you through to billing.")]])
    # [[TurnHit(turn_index=1, hit=TagHit(tag='transfer', ...)),
    #   TurnHit(turn_index=1, hit=TagHit(tag='transfer:billing', ...))]]

Each transfer the agent announces (``classify.transfer.TransferDetector``) gives two hits on
the announcing turn, both with the announcing sentence as evidence: ``transfer`` (the
DESIGN.md tag: the caller was passed on) and ``transfer:<reason>`` (``billing``,
``technical``, ``cancellation``, ``supervisor``, ``sales``, ``other``), whose score says how
sure the reason is (1.0 named destination, 0.8 context words, cosine for prototypes, 0.5
default). A call with more than one transfer also gets ``multi-transfer`` on the turn that
announces the second one.

Transfers need the whole conversation (the customer's turns before the announcement give
the reason), so this tagger is a ``ConversationTagger``; its per-text ``tag`` / ``tag_many``
find nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from classify.tagging import Conversation, TagHit, TurnHit
from classify.transfer import TransferDetector, TransferHit

__all__ = ["MULTI_TAG", "REASON_PREFIX", "TRANSFER_TAG", "TransferTagger", "TurnHit"]

TRANSFER_TAG = "transfer"
REASON_PREFIX = "transfer:"
MULTI_TAG = "multi-transfer"


class TransferTagger:
    """Tags transfers, their reasons and repeated transfers in conversations.

    ``detector``: a ``TransferDetector`` (fitted or not; default: the shipped patterns with
    the default spaCy pipeline). Loads nothing until ``fit`` / first use.
    """

    version = "transfers:1"

    def __init__(self, detector: TransferDetector | None = None) -> None:
        self.detector = detector

    def fit(self, texts: Sequence[str] | None = None, y: Any = None) -> TransferTagger:
        """Fit the detector (loads spaCy); ``texts``/``y`` are ignored. Returns ``self``."""
        detector = self.detector if self.detector is not None else TransferDetector()
        if not hasattr(detector, "matcher_"):
            detector.fit()
        self.detector_ = detector
        return self

    def tag(self, text: str, source: str = "comment") -> list[TagHit]:
        """No per-text hits: transfers are found by ``tag_conversations``."""
        return []

    def tag_many(self, texts: Sequence[str], source: str = "comment") -> list[list[TagHit]]:
        """No per-text hits: transfers are found by ``tag_conversations``."""
        return [[] for _ in texts]

    def tag_conversations(self, conversations: Sequence[Conversation]) -> list[list[TurnHit]]:
        """Hits per conversation; each conversation is its ``(speaker, text)`` turns in order."""
        if not hasattr(self, "detector_"):
            self.fit()
        found = self.detector_.find_many(conversations)
        return [_hits(transfers) for transfers in found]


def _hits(transfers: Sequence[TransferHit]) -> list[TurnHit]:
    out: list[TurnHit] = []
    for n, found in enumerate(transfers):
        span = (found.start, found.end, found.evidence)
        out.append(TurnHit(found.turn_index, TagHit(TRANSFER_TAG, *span)))
        reason = TagHit(REASON_PREFIX + found.reason, *span, score=found.score)
        out.append(TurnHit(found.turn_index, reason))
        if n == 1:
            out.append(TurnHit(found.turn_index, TagHit(MULTI_TAG, *span)))
    return out
