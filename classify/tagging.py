"""What taggers take and return: the sources, ``TagHit`` / ``TurnHit``, and the protocols.

Two protocols, both checked at run time with ``isinstance`` (no attribute sniffing):

- ``Tagger``: texts of one source -> hits per text (rules, the learned model, callback
  promises, a ``TaggerChain`` of them).
- ``ConversationTagger``: whole conversations (``(speaker, text)`` turns in order) -> hits per
  turn, for what needs the context of a call (transfer announcements and their reasons).

A tagger may be both (``TaggerChain`` is). Standard library only, so importing it is cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

SOURCES = ("comment", "customer", "agent")
"""Which texts a tag scans: survey comments, customer turns, agent turns."""

METHODS = ("rule", "model", "human")
"""How a hit was found (``TagHit.method``)."""

Conversation = Sequence[tuple[str, str]]
"""One call's ``(speaker, text)`` turns, in order."""


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; valid sources: {', '.join(SOURCES)}")
    return source


@dataclass(frozen=True)
class TagHit:
    """One tag found in one text.

    ``start``/``end`` are character offsets into the tagged text and
    ``text[start:end] == evidence`` (the sentence, or span, that triggered the tag).
    ``method`` is ``rule`` | ``model`` | ``human``; ``score`` is 1.0 for rules. ``rule``
    names the taxonomy pattern that matched (``re-explain#3``, ``rushed@transcript#0``), so
    reviewers' decisions can measure each pattern's precision; empty for other methods.
    ``cutoff``: for model hits, the tag's cut-off the score cleared (``score - cutoff`` is how
    sure the model is, which the review queue's uncertainty sampling ranks by); else None.
    """

    tag: str
    start: int
    end: int
    evidence: str
    method: str = "rule"
    score: float = 1.0
    rule: str = ""
    cutoff: float | None = None


@dataclass(frozen=True)
class TurnHit:
    """A tag hit on turn ``turn_index`` of a conversation (offsets into that turn's text)."""

    turn_index: int
    hit: TagHit


@runtime_checkable
class Tagger(Protocol):
    """What every per-text tagger offers (rules, the learned model, promises, a chain).

    sklearn-style: the constructor only stores its arguments, ``fit`` returns ``self``.
    """

    def fit(self, texts: Sequence[str] | None = None, y: Any = None) -> Tagger: ...

    def tag(self, text: str, source: str = "comment") -> list[TagHit]: ...

    def tag_many(self, texts: Sequence[str], source: str = "comment") -> list[list[TagHit]]: ...


@runtime_checkable
class ConversationTagger(Protocol):
    """A tagger that reads whole conversations: a list of ``TurnHit`` per conversation."""

    def tag_conversations(self, conversations: Sequence[Conversation]) -> list[list[TurnHit]]: ...
