"""classify: source-specific patterns (``source_patterns``) and the agent-turn rules.

An agent who says "that's not my problem" is rude; a customer who says it is not. The
taxonomy format tests are fast; the tagging tests use the real spaCy model (slow).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classify import RuleTagger, TagHit, TagSpec, TaxonomyError, load_taxonomy
from classify.taxonomy import parse_taxonomy

C, U, A = "comment", "customer", "agent"  # survey comment, customer turn, agent turn
AGENT_TAGS = ("agent-rude", "rushed")


def _minimal(**tag_overrides: object) -> dict:
    tag = {
        "description": "The customer mentions a refund.",
        "applies_to": ["comment", "customer"],
        "patterns": [[{"LEMMA": "refund"}]],
        "examples": ["I want a refund.", "Where is my refund?", "They refunded me twice."],
    }
    tag.update(tag_overrides)
    return {"version": "test-1", "tags": {"refund": tag}}


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- format (fast)


def test_shipped_taxonomy_scans_agent_turns_for_rude_and_rushed() -> None:
    taxonomy = load_taxonomy()
    agent = taxonomy.tags_for(A)
    assert set(AGENT_TAGS) <= set(agent)
    assert "agent-praise" not in agent and "re-explain" in agent  # agent lacking history
    for name in AGENT_TAGS:
        spec = taxonomy[name]
        # The customer-voice patterns stay off agent turns; only the agent's own run there.
        assert spec.shared_sources == (C, U)
        assert spec.applies_to == (C, U, A)
        assert spec.patterns_for(A) == spec.source_patterns[A]
        assert spec.patterns_for(U) == spec.patterns
        assert len(spec.examples_for(A)) >= 3 and spec.negative_examples_for(A)
        assert not set(spec.examples_for(A)) & set(spec.examples)
    rude = taxonomy["agent-rude"]
    assert rude.patterns_for(C) == rude.patterns + rude.source_patterns[C]


def test_source_patterns_add_their_source(tmp_path: Path) -> None:
    agent_only = [[{"LOWER": "refund"}, {"LOWER": "denied"}]]
    data = _minimal(
        source_patterns={"agent": agent_only},
        source_examples={"agent": ["Refund denied."]},
        source_negative_examples={"customer": ["Refund denied? Why?"]},
    )
    spec = load_taxonomy(_write(tmp_path, data))["refund"]
    assert spec.applies_to == (C, U, A) and spec.shared_sources == (C, U)
    assert spec.patterns_for(A) == (tuple(agent_only[0]),)
    assert spec.patterns_for(C) == spec.patterns
    assert spec.examples_for(A) == ("Refund denied.",)
    assert spec.examples_for(C) == spec.examples
    assert spec.negative_examples_for(U) == ("Refund denied? Why?",)
    assert spec.negative_examples_for(A) == ()
    with pytest.raises(ValueError, match="valid sources: comment, customer, agent"):
        spec.patterns_for("survey")


def test_old_format_and_hand_built_specs_unchanged(tmp_path: Path) -> None:
    spec = load_taxonomy(_write(tmp_path, _minimal()))["refund"]
    assert spec.applies_to == spec.shared_sources == (C, U)
    assert spec.source_patterns == spec.source_examples == {}
    assert spec.patterns_for(C) == spec.patterns and spec.patterns_for(A) == ()
    pattern = ({"LOWER": "hi"},)
    built = TagSpec("x", "d", (C,), (pattern,), ("a", "b", "c"), source_patterns={A: (pattern,)})
    assert built.applies_to == (C, A) and built.shared_sources == (C,)
    assert built.applies(A) and built.patterns_for(A) == (pattern,)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"source_patterns": {"survey": [[{"LOWER": "x"}]]}},
            r"'source_patterns': unknown source\(s\) \['survey'\]; "
            "valid sources: comment, customer, agent",
        ),
        ({"source_patterns": []}, "'source_patterns' must be a non-empty object mapping a source"),
        ({"source_patterns": {}}, "'source_patterns' must be a non-empty object"),
        (
            {"source_patterns": {"agent": []}},
            r"tag 'refund': source_patterns\['agent'\] must be a non-empty list of spaCy",
        ),
        (
            {"source_patterns": {"agent": [{"LOWER": "x"}]}},
            r"source_patterns\['agent'\] pattern #0 must be a non-empty list of token objects",
        ),
        (
            {"source_examples": {"agent": ["Refund denied."]}},
            "'source_examples' names source 'agent', which this tag does not scan",
        ),
        (
            {"source_examples": {"customer": []}},
            r"source_examples\['customer'\] must be a list of at least 1 non-empty",
        ),
        (
            {"source_negative_examples": {"transcript": ["x"]}},
            r"'source_negative_examples': unknown source\(s\) \['transcript'\]; valid sources",
        ),
        ({"source_pattern": {"agent": []}}, r"unknown key\(s\) \['source_pattern'\].*source_pat"),
    ],
)
def test_malformed_source_fields(tmp_path: Path, overrides: dict, message: str) -> None:
    path = _write(tmp_path, _minimal(**overrides))
    with pytest.raises(TaxonomyError, match=message) as info:
        load_taxonomy(path)
    assert str(path) in str(info.value)


# --------------------------------------------------------------------------- agent rules (slow)


@pytest.fixture(scope="module")
def tagger() -> RuleTagger:
    return RuleTagger().fit()


def _tags(hits: list[TagHit]) -> list[str]:
    return [hit.tag for hit in hits]


# (tag, agent turn, keyword the evidence must contain, sources where it must NOT get the tag)
AGENT_POSITIVES = [
    # "not my problem" stays agent-rude in survey comments ("he basically said not my problem").
    ("agent-rude", "That's not my problem. Your bank sent it late.", "not my problem", (U,)),
    ("agent-rude", "That is not my job.", "not my job", (C, U)),
    ("agent-rude", "It isn't our problem if your bank was late.", "our problem", (U,)),
    ("agent-rude", "That's your problem, not mine.", "your problem", (C, U)),
    ("agent-rude", "Look, I don't have time for this.", "time for this", (C, U)),
    ("agent-rude", "I haven't got time for you.", "time for you", (C, U)),
    ("agent-rude", "You need to calm down, sir.", "calm down", (C, U)),
    ("agent-rude", "Calm down.", "calm down", (C, U)),
    ("agent-rude", "You should have read the terms and conditions.", "read the terms", (C, U)),
    ("agent-rude", "What do you want me to do about it?", "about it", (C, U)),
    ("agent-rude", "I already told you, the fee stands.", "already told you", (C, U)),
    ("agent-rude", "How many times do I have to tell you?", "how many times", (C, U)),
    ("agent-rude", "Are you even listening to me?", "listening", (C, U)),
    ("agent-rude", "You'll just have to deal with it.", "deal with it", (C, U)),
    ("rushed", "Could be your wifi. Is there anything else? No? Okay, bye.", "else", (C, U)),
    ("rushed", "Anything else? Okay, bye.", "bye", (C, U)),
    ("rushed", "I need to wrap this up.", "wrap this up", (C, U)),
    ("rushed", "I have other customers waiting.", "other customers", (C, U)),
    ("rushed", "Make it quick.", "quick", (C, U)),
    ("rushed", "Can we keep this short?", "short", (C, U)),
    ("rushed", "Let's speed this up.", "speed this up", (C, U)),
    ("rushed", "I think we're done here.", "done here", (C, U)),
    ("rushed", "I don't have all day.", "all day", (C, U)),
]  # fmt: skip

# agent turns that must get neither agent-rude nor rushed
AGENT_NEGATIVES = [
    "It's not a problem at all.",
    "No problem, happy to help.",
    "That's not your problem, I'll sort it out.",
    "Don't worry, it's not your fault.",
    "No rush, take your time.",
    "There's no rush, take all the time you need.",
    "I have time for this, don't worry.",
    "It won't take much time for this update.",
    "The network should calm down after the upgrade.",
    "You should have received an email with the terms.",
    "What do you want me to do with the old router?",
    "Did I already tell you about the discount?",
    "How many times have you called us this month?",
    "Is that your problem with the bill?",
    "You won't have to deal with it again.",
    "I'm not rushing you.",
    "Is there anything else I can help with today?",
    "You can send us the receipt by email. Is there anything else?",
    "If there's anything else, just call us back. Goodbye!",
    "I'll make it quick, it's just two questions.",
    "I'll try to speed this up for you.",
    "Let me get to the point: the fee is refundable.",
    "Once we're done here, you'll get a confirmation email.",
    "I have to go check with my supervisor, one moment.",
]

# customer turns in the agent's words: the customer's own stance, not the agent's behaviour
CUSTOMER_NEGATIVES = [
    "It's not my problem, it's your system.",
    "That's not my problem, I paid on time.",
    "I don't have time for this, I'm at work.",
    "I already told you my account number.",
    "Make it quick please, my battery is dying.",
    "I have to go now.",
]


@pytest.mark.slow
@pytest.mark.parametrize(("tag", "text", "keyword", "not_in"), AGENT_POSITIVES)
def test_agent_turn_positive(
    tagger: RuleTagger, tag: str, text: str, keyword: str, not_in: tuple[str, ...]
) -> None:
    hits = [hit for hit in tagger.tag(text, source=A) if hit.tag == tag]
    assert hits, (tag, text, tagger.tag(text, source=A))
    assert any(keyword.lower() in hit.evidence.lower() for hit in hits), hits
    for hit in hits:
        assert text[hit.start : hit.end] == hit.evidence
        assert (hit.method, hit.score) == ("rule", 1.0)
    for source in not_in:
        assert tag not in _tags(tagger.tag(text, source=source)), (source, text)


@pytest.mark.slow
def test_agent_turn_negatives(tagger: RuleTagger) -> None:
    for text, hits in zip(AGENT_NEGATIVES, tagger.tag_many(AGENT_NEGATIVES, source=A), strict=True):
        assert not set(_tags(hits)) & set(AGENT_TAGS), (text, hits)


@pytest.mark.slow
def test_customer_saying_it_is_not_agent_behaviour(tagger: RuleTagger) -> None:
    results = tagger.tag_many(CUSTOMER_NEGATIVES, source=U)
    for text, hits in zip(CUSTOMER_NEGATIVES, results, strict=True):
        assert not set(_tags(hits)) & set(AGENT_TAGS), (text, hits)
    # Reported third-person speech still counts, in a comment or a customer turn.
    reported = "He told me it's not his problem and that he didn't have time for this."
    for source in (C, U):
        assert "agent-rude" in _tags(tagger.tag(reported, source=source))


@pytest.mark.slow
def test_negation_outside_the_phrase_still_suppresses(tagger: RuleTagger) -> None:
    # "not" inside "not my problem" is the phrase; a negation around it is not.
    assert "agent-rude" not in _tags(tagger.tag("I never said it's not my problem.", source=A))
    assert "agent-rude" not in _tags(tagger.tag("I'm not telling you to calm down.", source=A))
    hits = tagger.tag("Sure, one moment. That's not my problem though.", source=A)
    assert _tags(hits) == ["agent-rude"]
    assert hits[0].evidence == "That's not my problem though."


@pytest.mark.slow
def test_every_source_example_holds(tagger: RuleTagger) -> None:
    """Shared and per-source examples hold on every source the tag scans."""
    for source in (C, U, A):
        specs = [spec for spec in tagger.taxonomy_ if spec.applies(source)]
        for spec in specs:
            texts = spec.examples_for(source)
            for text, hits in zip(texts, tagger.tag_many(texts, source=source), strict=True):
                assert spec.name in _tags(hits), (spec.name, source, text)
            texts = spec.negative_examples_for(source)
            for text, hits in zip(texts, tagger.tag_many(texts, source=source), strict=True):
                assert spec.name not in _tags(hits), (spec.name, source, text)


@pytest.mark.slow
def test_demo_agent_lines_get_exactly_their_dialogue_tags(tagger: RuleTagger) -> None:
    """The demo calls' ground truth, agent turns only: no misses and no false alarms."""
    from qa.demo.dialogues import DIALOGUES

    for dialogue in DIALOGUES:
        lines = [str(text) for who, text in dialogue.lines if str(who).startswith("A")]
        lines = [line.replace("{agent}", "Sam") for line in lines]
        found = {tag for hits in tagger.tag_many(lines, source=A) for tag in _tags(hits)}
        expected = set(dialogue.tags) & set(AGENT_TAGS)
        assert found & set(AGENT_TAGS) == expected, dialogue.key


@pytest.mark.slow
def test_invalid_source_pattern_names_its_source(tagger: RuleTagger) -> None:
    data = _minimal(source_patterns={"agent": [[{"LEMMA": {"SOMETIMES": ["refund"]}}]]})
    bad = RuleTagger(parse_taxonomy(data), nlp=tagger.nlp_)
    with pytest.raises(TaxonomyError, match=r"'refund' source_patterns\['agent'\] pattern #0"):
        bad.fit()
    good = _minimal(source_patterns={"agent": [[{"LOWER": "request"}, {"LOWER": "denied"}]]})
    custom = RuleTagger(parse_taxonomy(good), nlp=tagger.nlp_).fit()
    assert _tags(custom.tag("Request denied.", source=A)) == ["refund"]
    assert custom.tag("Request denied.", source=U) == []  # agent patterns: agent turns only
    assert _tags(custom.tag("I want a refund.", source=U)) == ["refund"]
    assert custom.tag("I want a refund.", source=A) == []  # shared: their applies_to only
