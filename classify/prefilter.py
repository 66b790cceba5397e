"""Skip the dependency parse for texts that no rule can match.

The parser is about half of spaCy's time per text, and most texts in a large file match no
pattern at all. ``RulePrefilter`` runs the taxonomy's patterns, relaxed, on a parse-free
pass (tokenizer, tagger, lemmatizer: lemmas and POS do not depend on the parser); only texts
with a candidate match get the full pipeline and the real ``RuleTagger`` (negation needs
the parse). Relaxed = parse-dependent constraints (``IS_SENT_START``, ``DEP``, ...)
dropped, so the candidates are a superset of the real matches and results are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from classify.taxonomy import SOURCES

if TYPE_CHECKING:
    from spacy.matcher import Matcher

    from classify.rules import RuleTagger

PARSE_KEYS = frozenset({"IS_SENT_START", "SENT_START", "DEP", "HEAD", "ENT_TYPE", "ENT_IOB"})
PARSE_PIPES = ("parser", "senter", "ner")


def _relaxed(pattern: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for token in pattern:
        kept = {k: v for k, v in token.items() if k not in PARSE_KEYS}
        out.append(kept if kept else {})
    return out


class RulePrefilter:
    """Which texts could match a rule of a source (built from a fitted ``RuleTagger``)."""

    def __init__(self, rules: RuleTagger):
        from spacy.matcher import Matcher

        self.nlp = rules.nlp_
        self.matchers: dict[str, Matcher] = {}
        for source in SOURCES:
            matcher = Matcher(self.nlp.vocab)
            for spec in rules.taxonomy_:
                if not spec.applies(source):
                    continue
                for i, pattern in enumerate(spec.patterns_for(source)):
                    matcher.add(f"pre:{spec.name}#{i}", [_relaxed(pattern)])
            self.matchers[source] = matcher
        self.disable = [p for p in PARSE_PIPES if p in self.nlp.pipe_names]

    def candidates(self, texts: Sequence[str], source: str, batch_size: int = 256) -> list[bool]:
        """Per text: could a rule of ``source`` match it?"""
        matcher = self.matchers[source]
        if len(matcher) == 0:
            return [False] * len(texts)
        with self.nlp.select_pipes(disable=self.disable):
            return [bool(matcher(doc)) for doc in self.nlp.pipe(texts, batch_size=batch_size)]
