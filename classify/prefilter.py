"""Skip spaCy's pipeline for texts that no rule can match.

The tagger + parser cost ~4 ms a text on one core, and most texts of a large file match no
pattern. Every pattern has at least one token it requires (not optional) that names words:
a ``LOWER`` / ``ORTH`` word list, or a ``LEMMA`` list. ``RulePrefilter`` picks one such
anchor per pattern and checks it against the tokenizer's output only (~50x cheaper):
exact lower-cased words, and for a lemma every form it can take (the lemma, its regular
inflections by prefix, the lemmatizer's irregular forms: "told" for "tell"). Texts without
any anchor skip the pipeline; the others get the full parse and the real ``RuleTagger``.
Candidates are a superset of the texts the rules match, so results are unchanged
(tests/test_prefilter.py checks this on the taxonomy's examples).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from classify.taxonomy import SOURCES

if TYPE_CHECKING:
    from classify.rules import RuleTagger

# Lemmas that the attribute ruler also assigns to contractions ("'m", "ca", "n't"...),
# whose forms a prefix cannot predict: never used as anchors.
CLOSED_LEMMAS = frozenset(
    {"be", "have", "do", "not", "will", "can", "would", "could", "should", "shall", "may",
     "might", "must", "-PRON-", "I", "you", "he", "she", "it", "we", "they"}
)  # fmt: skip
WORD_KEYS = ("LOWER", "ORTH", "TEXT", "NORM")


def _words(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and set(value) == {"IN"}:
        return [str(v) for v in value["IN"]]
    return None


def _required(token: dict[str, Any]) -> bool:
    op = token.get("OP")
    if op is None or op in ("+", "1"):
        return True
    if isinstance(op, str) and op.startswith("{") and op.endswith("}"):
        low = op[1:-1].split(",")[0].strip()
        return low.isdigit() and int(low) >= 1
    return False


def _anchor(
    pattern: Sequence[dict[str, Any]], stop_words: frozenset[str] = frozenset()
) -> tuple[frozenset[str], frozenset[str]] | None:
    """(lower-cased words, lemmas) of the most selective required token, or None if the
    pattern requires no word-naming token (then it cannot be prefiltered).

    Most selective: naming no stop word ("to", "me", "with" are in most texts), then naming
    the fewest words."""
    best: tuple[frozenset[str], frozenset[str]] | None = None

    def cost(anchor: tuple[frozenset[str], frozenset[str]]) -> tuple[bool, int]:
        named = anchor[0] | {lemma.lower() for lemma in anchor[1]}
        return (not named.isdisjoint(stop_words), len(named))

    for token in pattern:
        if not _required(token):
            continue
        for key in WORD_KEYS:
            words = _words(token.get(key))
            if words:
                choice = (frozenset(w.lower() for w in words), frozenset())
                break
        else:
            lemmas = _words(token.get("LEMMA"))
            if not lemmas or any(lemma in CLOSED_LEMMAS for lemma in lemmas):
                continue
            choice = (frozenset(), frozenset(lemmas))
        if best is None or cost(choice) < cost(best):
            best = choice
    return best


def _regex_anchor(pattern: Sequence[dict[str, Any]]) -> re.Pattern[str] | None:
    """The ``LOWER`` regex of a required token ("re-?explain"), for patterns with no word."""
    for token in pattern:
        value = token.get("LOWER")
        if _required(token) and isinstance(value, dict) and set(value) == {"REGEX"}:
            return re.compile(str(value["REGEX"]))
    return None


class RulePrefilter:
    """Which texts could match a rule of a source (built from a fitted ``RuleTagger``)."""

    def __init__(self, rules: RuleTagger):
        self.nlp = rules.nlp_
        irregular = _irregular_forms(self.nlp)
        stop_words = frozenset(w.lower() for w in self.nlp.Defaults.stop_words)
        self.words: dict[str, set[str]] = {}
        self.stems: dict[str, tuple[str, ...]] = {}
        self.everything: dict[str, bool] = {}
        self.regexes: dict[str, tuple[re.Pattern[str], ...]] = {}
        for source in SOURCES:
            words: set[str] = set()
            stems: set[str] = set()
            regexes: list[re.Pattern[str]] = []
            everything = False
            for spec in rules.taxonomy_:
                for pattern in spec.patterns_for(source):
                    anchor = _anchor(pattern, stop_words)
                    if anchor is None:
                        regex = _regex_anchor(pattern)
                        if regex is None:
                            everything = True
                        else:
                            regexes.append(regex)
                        continue
                    words |= anchor[0]
                    for lemma in anchor[1]:
                        low = lemma.lower()
                        words.add(low)
                        words |= irregular.get(low, set())
                        stems.add(low[:-1] if low[-1:] in ("e", "y") and len(low) > 2 else low)
            self.words[source] = words
            self.stems[source] = tuple(sorted(stems))
            self.everything[source] = everything
            self.regexes[source] = tuple(regexes)

    def candidates(self, texts: Sequence[str], source: str, batch_size: int = 1000) -> list[bool]:
        """Per text: could a rule of ``source`` match it?"""
        if self.everything[source]:
            return [True] * len(texts)
        words, stems, regexes = self.words[source], self.stems[source], self.regexes[source]
        out = []
        for doc in self.nlp.tokenizer.pipe(texts, batch_size=batch_size):
            lowers = {t.lower_ for t in doc}
            out.append(
                not lowers.isdisjoint(words)
                or any(w.startswith(stems) for w in lowers)
                or any(rx.search(w) for rx in regexes for w in lowers)
            )
        return out


def _irregular_forms(nlp: Any) -> dict[str, set[str]]:
    """lemma -> its irregular forms, from the lemmatizer's exception tables."""
    forms: dict[str, set[str]] = {}
    try:
        table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_exc")
    except (KeyError, AttributeError):
        return forms
    for pos in table:
        for form, lemmas in dict(table[pos]).items():
            for lemma in lemmas:
                forms.setdefault(str(lemma).lower(), set()).add(str(form).lower())
    return forms
