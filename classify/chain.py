"""Several taggers run as one: their hits on each text, concatenated in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from classify.tagging import Conversation, ConversationTagger, Tagger, TagHit, TurnHit


class TaggerChain:
    """Runs each tagger's ``tag_many`` and joins the hits per text: a ``Tagger``, and a
    ``ConversationTagger`` over those of its taggers that are one.

    Used to add special-purpose taggers (callback promises, transfer reasons) beside the
    taxonomy's rule tagger without either knowing of the other.
    """

    def __init__(self, taggers: Sequence[Tagger]) -> None:
        self.taggers = taggers

    def fit(self, texts: Sequence[str] | None = None, y: Any = None) -> TaggerChain:
        """Fit every tagger; returns ``self``."""
        for tagger in self.taggers:
            tagger.fit(texts, y)
        return self

    def tag(self, text: str, source: str = "comment") -> list[TagHit]:
        """Every tagger's hits on one text."""
        return self.tag_many([text], source=source)[0]

    def tag_many(self, texts: Sequence[str], source: str = "comment") -> list[list[TagHit]]:
        """Every tagger's hits on each text, in tagger order."""
        texts = list(texts)
        out: list[list[TagHit]] = [[] for _ in texts]
        for tagger in self.taggers:
            for hits, more in zip(out, tagger.tag_many(texts, source=source), strict=True):
                hits.extend(more)
        return out

    def tag_conversations(self, conversations: Sequence[Conversation]) -> list[list[TurnHit]]:
        """Hits of the taggers that read whole conversations (``TransferTagger``): a list of
        ``TurnHit`` per conversation, in tagger order; none when no tagger reads them."""
        conversations = [list(c) for c in conversations]
        out: list[list[TurnHit]] = [[] for _ in conversations]
        for tagger in self.taggers:
            if not isinstance(tagger, ConversationTagger):
                continue
            found = tagger.tag_conversations(conversations)
            for hits, more in zip(out, found, strict=True):
                hits.extend(more)
        return out
