"""classify.prefilter: skipping the parse never changes what the rules find."""

from __future__ import annotations

import pytest

from classify import RuleTagger
from classify.prefilter import RulePrefilter

pytestmark = pytest.mark.slow

UNRELATED = [
    "How do I activate my new card?",
    "What is the exchange rate for euros today?",
    "Set an alarm for six thirty.",
    "Play some jazz music in the kitchen.",
    "Is it going to rain in Boston tomorrow?",
    "The flight landed on schedule and the crew was lovely.",
]


@pytest.fixture(scope="module")
def rules() -> RuleTagger:
    return RuleTagger().fit()


def _texts(rules: RuleTagger, source: str) -> list[str]:
    texts = list(UNRELATED)
    for spec in rules.taxonomy_:
        if source in spec.applies_to:
            texts += list(spec.examples_for(source)) + list(spec.negative_examples_for(source))
    return [*texts, "I had to re-explain everything.", "They made me retell it all"]


@pytest.mark.parametrize("source", ["comment", "customer", "agent"])
def test_candidates_cover_every_rule_match_and_skip_unrelated_texts(
    rules: RuleTagger, source: str
) -> None:
    texts = _texts(rules, source)
    candidates = RulePrefilter(rules).candidates(texts, source)
    hits = rules.tag_many(texts, source=source)
    missed = [t for t, c, h in zip(texts, candidates, hits, strict=True) if h and not c]
    assert missed == []  # a superset: every text a rule matches is parsed
    skipped = [t for t, c in zip(texts, candidates, strict=True) if not c]
    assert len([t for t in UNRELATED if t in skipped]) >= 3


def test_regex_patterns_do_not_disable_the_prefilter(rules: RuleTagger) -> None:
    prefilter = RulePrefilter(rules)
    assert not prefilter.everything["comment"] and prefilter.index["comment"].regexes
    assert prefilter.candidates(["I had to re-explain it", "Play some jazz"], "comment") == [
        True,
        False,
    ]


def test_a_pattern_needs_all_its_required_words(rules: RuleTagger) -> None:
    # `unresolved`'s "same problem again" needs "same", a problem word and "again"/"as"/...:
    # "same" and "as" alone are not worth a parse.
    prefilter = RulePrefilter(rules)
    texts = ["We ordered the same dinner as last year", "Same problem again, nothing works"]
    assert prefilter.candidates(texts, "comment") == [False, True]
    assert [bool(h) for h in rules.tag_many(texts)] == [False, True]


def test_a_pattern_with_no_checkable_word_makes_every_text_a_candidate() -> None:
    from classify.prefilter import Requirement, _Index

    index = _Index()
    index.add([Requirement(frozenset({"refund"}))])
    assert not index.everything and not index.matches({"hello"})
    index.add([None])  # e.g. [{"POS": "VERB"}]: nothing to check without the parse
    assert index.everything
