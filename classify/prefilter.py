"""Skip spaCy's pipeline for texts that no rule can match.

The tagger + parser cost ~2 ms a text on one core, and most texts of a large file match no
pattern. A Matcher pattern matches only where each of its required (not optional) tokens
matches some token of the text, so ``RulePrefilter`` turns every required token that names
words into a ``Requirement`` checked against the tokenizer's output alone (~50x cheaper
than the parse): the lower-cased words of ``LOWER`` / ``ORTH`` / ``TEXT``, and for a
``LEMMA`` every form the pipeline can lemmatise to it, found by running the lemmatiser's
own tables backwards (its suffix rules, its exceptions: "told" for "tell", and the
attribute ruler's fixed lemmas: "'m" for "be"). A text is a candidate when some pattern
has all its requirements met ("same" is in many texts, "same" + "problem" + "again" in
few); only candidates get the full parse and the real ``RuleTagger``. Candidates are a
superset of the texts the rules match, so results are unchanged (tests/test_prefilter.py).

Tokens that cannot be checked from words alone (gaps, POS tests, ``NORM``; ``LEMMA`` when
the lemmatiser is not spaCy's rule lemmatiser) are not requirements; a pattern with no
requirement at all makes every text a candidate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from classify.taxonomy import SOURCES

if TYPE_CHECKING:
    from classify.rules import RuleTagger

# NORM is left out: a token's norm can differ from its text ("cuz" -> "because").
WORD_KEYS = ("LOWER", "ORTH", "TEXT")


@dataclass(frozen=True)
class Requirement:
    """One required pattern token, as words: met by a text token whose lower-cased form is
    in ``words`` or matches ``regex``."""

    words: frozenset[str] = frozenset()
    regex: str | None = None


@dataclass
class _Index:
    """The requirements of one source's patterns, indexed for a fast per-text check."""

    requirements: dict[Requirement, int] = field(default_factory=dict)
    patterns: list[frozenset[int]] = field(default_factory=list)
    everything: bool = False
    by_word: dict[str, set[int]] = field(default_factory=dict)
    regexes: list[tuple[int, re.Pattern[str]]] = field(default_factory=list)
    by_requirement: dict[int, list[frozenset[int]]] = field(default_factory=dict)

    def add(self, requirements: Iterable[Requirement | None]) -> None:
        ids = frozenset(self._id(r) for r in requirements if r is not None)
        if not ids:
            self.everything = True
            return
        self.patterns.append(ids)
        self.by_requirement.setdefault(min(ids), []).append(ids)

    def _id(self, requirement: Requirement) -> int:
        if requirement not in self.requirements:
            rid = self.requirements[requirement] = len(self.requirements)
            for word in requirement.words:
                self.by_word.setdefault(word, set()).add(rid)
            if requirement.regex is not None:
                self.regexes.append((rid, re.compile(requirement.regex)))
        return self.requirements[requirement]

    def met(self, lowers: set[str]) -> set[int]:
        """Ids of the requirements that some token (lower-cased) meets."""
        met: set[int] = set()
        for word in lowers:
            met |= self.by_word.get(word, set())
        for rid, regex in self.regexes:
            if any(regex.search(word) for word in lowers):
                met.add(rid)
        return met

    def matches(self, lowers: set[str]) -> bool:
        """Could some pattern match a text with these tokens?"""
        met = self.met(lowers)
        # Each pattern is filed under its smallest requirement id: only those met can match.
        return any(ids <= met for rid in met for ids in self.by_requirement.get(rid, ()))


class RulePrefilter:
    """Which texts could match a rule of a source (built from a fitted ``RuleTagger``)."""

    def __init__(self, rules: RuleTagger):
        self.nlp = rules.nlp_
        self.forms = LemmaForms.of(self.nlp)
        self.index: dict[str, _Index] = {}
        for source in SOURCES:
            index = _Index()
            for spec in rules.taxonomy_:
                for pattern in spec.patterns_for(source):
                    index.add(self.requirement(t) for t in pattern if _required(t))
            self.index[source] = index

    @property
    def everything(self) -> dict[str, bool]:
        """Per source: does a pattern require no checkable word (every text a candidate)?"""
        return {source: index.everything for source, index in self.index.items()}

    def candidates(self, texts: Sequence[str], source: str, batch_size: int = 1000) -> list[bool]:
        """Per text: could a rule of ``source`` match it?"""
        index = self.index[source]
        if index.everything:
            return [True] * len(texts)
        return [
            index.matches({t.lower_ for t in doc})
            for doc in self.nlp.tokenizer.pipe(texts, batch_size=batch_size)
        ]

    def requirement(self, token: dict[str, Any]) -> Requirement | None:
        """What a text must contain for ``token`` to match, or None when that cannot be
        told from its words (see the module docstring)."""
        for key in WORD_KEYS:
            words = _words(token.get(key))
            if words:
                return Requirement(frozenset(w.lower() for w in words))
        lemmas = _words(token.get("LEMMA"))
        if lemmas and self.forms is not None:
            return Requirement(frozenset().union(*(self.forms(lemma) for lemma in lemmas)))
        value = token.get("LOWER")
        if isinstance(value, dict) and set(value) == {"REGEX"}:
            return Requirement(regex=str(value["REGEX"]))
        return None


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


@dataclass(frozen=True)
class LemmaForms:
    """Every lower-cased token text that a spaCy pipeline with a rule lemmatiser can give
    a lemma: its tables read backwards (see the module docstring)."""

    suffix_rules: frozenset[tuple[str, str]]  # (old, new): "tries" -> "try" is ("ies", "y")
    exceptions: dict[str, frozenset[str]]  # lemma -> irregular forms
    fixed: dict[str, frozenset[str]]  # lemma -> forms the attribute ruler gives it

    @classmethod
    def of(cls, nlp: Any) -> LemmaForms | None:
        """The tables of ``nlp``'s lemmatiser, or None when it has no rule lemmatiser
        (then lemma forms cannot be listed and ``LEMMA`` tokens are not requirements)."""
        try:
            lemmatizer = nlp.get_pipe("lemmatizer")
        except KeyError:
            return None
        if getattr(lemmatizer, "mode", None) != "rule":
            return None
        lookups = lemmatizer.lookups
        rules: set[tuple[str, str]] = set()
        for pos_rules in lookups.get_table("lemma_rules", {}).values():
            rules |= {(str(old), str(new)) for old, new in pos_rules}
        exceptions: dict[str, set[str]] = {}
        for pos_table in lookups.get_table("lemma_exc", {}).values():
            for form, lemmas in dict(pos_table).items():
                for lemma in lemmas:
                    exceptions.setdefault(str(lemma), set()).add(str(form).lower())
        fixed: dict[str, set[str]] = {}
        if "attribute_ruler" in nlp.pipe_names:
            for rule in nlp.get_pipe("attribute_ruler").patterns:
                lemma = rule["attrs"].get("LEMMA")
                if lemma is None:
                    continue
                for pattern in rule["patterns"]:
                    for token in pattern:
                        for key in WORD_KEYS:
                            fixed.setdefault(str(lemma), set()).update(
                                w.lower() for w in _words(token.get(key)) or ()
                            )
        return cls(
            frozenset(rules),
            {k: frozenset(v) for k, v in exceptions.items()},
            {k: frozenset(v) for k, v in fixed.items()},
        )

    def __call__(self, lemma: str) -> frozenset[str]:
        """The lower-cased forms whose lemma can be ``lemma``."""
        forms = {lemma.lower()}
        for base in {lemma, lemma.lower()}:
            forms |= self.exceptions.get(base, frozenset()) | self.fixed.get(base, frozenset())
            for old, new in self.suffix_rules:
                if base.endswith(new):
                    forms.add((base[: len(base) - len(new)] + old).lower())
        return frozenset(forms)
