"""TaggerChain: hits of several taggers joined per text, in order."""

from __future__ import annotations

from classify.chain import TaggerChain
from classify.tagging import ConversationTagger, Tagger, TagHit, TurnHit


class Finds:
    def __init__(self, word: str, tag: str) -> None:
        self.word, self.tag, self.fitted, self.sources = word, tag, False, []

    def fit(self, texts=None, y=None):  # type: ignore[no-untyped-def]
        self.fitted = True
        return self

    def tag_many(self, texts: list[str], source: str = "comment") -> list[list[TagHit]]:
        self.sources.append(source)
        return [
            [TagHit(self.tag, t.find(self.word), t.find(self.word) + len(self.word), t)]
            if self.word in t else []
            for t in texts
        ]  # fmt: skip


def test_chain_joins_hits_per_text_in_tagger_order() -> None:
    first, second = Finds("again", "re-explain"), Finds("call you back", "callback-promised")
    chain = TaggerChain([first, second]).fit()
    hits = chain.tag_many(["explain again", "I'll call you back again", "fine"], source="agent")
    assert first.fitted and second.fitted and first.sources == second.sources == ["agent"]
    assert [[h.tag for h in text] for text in hits] == [
        ["re-explain"], ["re-explain", "callback-promised"], []]  # fmt: skip
    assert chain.tag("call you back", source="agent")[0].start == 0


class Transfers(Finds):
    """A conversation tagger too: one hit on the last turn of each conversation."""

    def tag(self, text: str, source: str = "comment") -> list[TagHit]:
        return []

    def tag_conversations(self, conversations):  # type: ignore[no-untyped-def]
        return [[TurnHit(len(c) - 1, TagHit("transfer", 0, 1, c[-1][1][:1]))]
                for c in conversations]  # fmt: skip


def test_conversation_taggers_are_found_by_their_protocol() -> None:
    per_text, transfers = Finds("again", "re-explain"), Transfers("x", "unused")
    assert isinstance(transfers, Tagger) and isinstance(transfers, ConversationTagger)
    assert not isinstance(per_text, ConversationTagger)
    chain = TaggerChain([per_text, transfers]).fit()
    assert isinstance(chain, Tagger) and isinstance(chain, ConversationTagger)
    calls = [[("customer", "hi"), ("agent", "putting you through")], [("agent", "bye")]]
    assert chain.tag_conversations(calls) == [
        [TurnHit(1, TagHit("transfer", 0, 1, "p"))], [TurnHit(0, TagHit("transfer", 0, 1, "b"))]
    ]  # fmt: skip
    # Without a conversation tagger in it, a chain finds nothing per conversation.
    assert TaggerChain([per_text]).tag_conversations(calls) == [[], []]
