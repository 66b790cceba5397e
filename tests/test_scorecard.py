"""Scorecards as data: the shipped default, validation messages, prefill, answers and scoring."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from qa.review.scorecard import (
    SCORECARDS_DIR,
    ScorecardError,
    check_answers,
    load_scorecard,
    load_scorecards,
    parse_scorecard,
    prefill,
    score,
)

MODELS = Path(__file__).resolve().parents[1] / "models"
DEFAULT_FILE = MODELS / SCORECARDS_DIR / "default.json"
# The default taxonomy's tag names (transfer also has children, transfer:<reason>).
TAXONOMY_TAGS = {
    "re-explain", "transfer", "long-wait", "agent-praise", "broken-callback", "unresolved",
    "rushed", "agent-rude",
}  # fmt: skip
RULE = {"tag": "re-explain", "when": "present", "answer": "no"}


@pytest.fixture
def raw() -> dict[str, Any]:
    """The shipped default as decoded JSON, to mutate one thing at a time."""
    return json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def card():  # type: ignore[no-untyped-def]
    return load_scorecard(DEFAULT_FILE)


def tiny(**question: Any) -> dict[str, Any]:
    """A one-section card with one yes_no question, overridden by ``question``."""
    q = {"id": "q1", "text": "Question one", "type": "yes_no"} | question
    return {"id": "tiny", "title": "Tiny", "version": 1,
            "sections": [{"id": "s", "title": "S", "questions": [q]}]}  # fmt: skip


# ---------------------------------------------------------------- the shipped default


def test_default_loads_with_the_documented_layout(card) -> None:  # type: ignore[no-untyped-def]
    assert card.ref == "default@v1"
    assert re.fullmatch(r"[0-9a-f]{12}", card.digest)
    assert [s.id for s in card.sections] == [
        "opening", "understanding", "resolution", "soft_skills", "hold_transfer",
    ]  # fmt: skip
    assert {q.id for q in card.questions() if q.auto_fail} == {"verified", "polite"}
    empathy = card.question("empathy")
    assert empathy.type == "scale" and empathy.choices() == (1, 2, 3, 4, 5)
    assert card.question("verified").choices() == ("yes", "no", "na")
    assert card.question("greeting").choices() == ("yes", "no")
    assert load_scorecards(MODELS)["default"] == card


def test_default_prefill_tags_are_default_taxonomy_tags(card) -> None:  # type: ignore[no-untyped-def]
    taxonomy = json.loads((MODELS / "taxonomy.json").read_text(encoding="utf-8"))["tags"]
    assert set(taxonomy) == TAXONOMY_TAGS
    rules = {q.id: q.prefill for q in card.questions() if q.prefill}
    assert {qid: (r.tag, r.when, r.answer) for qid, r in rules.items()} == {
        "no_repeat": ("re-explain", "present", "no"),
        "resolved": ("unresolved", "present", "no"),
        "callback_kept": ("broken-callback", "present", "no"),
        "polite": ("agent-rude", "present", "no"),
        "not_rushed": ("rushed", "present", "no"),
    }
    for rule in rules.values():
        assert rule.tag.split(":")[0] in taxonomy


def test_question_lookup_lists_valid_ids(card) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KeyError, match=r"'nope'.*valid: greeting, verified"):
        card.question("nope")


# ---------------------------------------------------------------- scoring


def test_weighted_score_by_hand(card) -> None:  # type: ignore[no-untyped-def]
    answers = {
        "greeting": "yes",  # w1 x 1
        "verified": "yes",  # w2 x 1
        "no_repeat": "no",  # w2 x 0
        "resolved": "yes",  # w3 x 1
        "callback_kept": "na",  # left out
        "polite": "yes",  # w2 x 1
        "empathy": 3,  # w1 x 0.5
        "not_rushed": "no",  # w1 x 0
    }
    result = score(card, answers)
    # (1 + 2 + 0 + 3 + 2 + 0.5 + 0) / (1 + 2 + 2 + 3 + 2 + 1 + 1) = 8.5 / 12
    assert result.score == 70.8
    assert result.sections == {
        "opening": 100.0, "understanding": 0.0, "resolution": 100.0, "soft_skills": 62.5,
        "hold_transfer": None,
    }  # fmt: skip
    assert (result.answered, result.na, result.unanswered) == (7, 1, ("explained_holds",))
    assert not result.auto_failed and result.failed_questions == ()
    assert json.loads(json.dumps(result.to_dict())) == result.to_dict()
    assert result.to_dict()["unanswered"] == ["explained_holds"]


def test_scale_endpoints_and_na_excluded(card) -> None:  # type: ignore[no-untyped-def]
    assert score(card, {"empathy": 1}).score == 0.0
    assert score(card, {"empathy": 5}).score == 100.0
    with_na = score(card, {"greeting": "yes", "resolved": "no", "callback_kept": "na"})
    without = score(card, {"greeting": "yes", "resolved": "no"})
    assert with_na.score == without.score == 25.0  # 1 / (1 + 3)
    assert with_na.na == 1 and without.na == 0


def test_nothing_scorable_gives_none(card) -> None:  # type: ignore[no-untyped-def]
    assert score(card, {}).score is None
    only_na = score(card, {"verified": "na", "explained_holds": "N/A"})
    assert only_na.score is None and only_na.answered == 0 and only_na.na == 2
    assert set(only_na.sections.values()) == {None}
    assert len(only_na.unanswered) == len(card.questions()) - 2


def test_auto_fail_zeroes_the_score_but_keeps_section_scores(card) -> None:  # type: ignore[no-untyped-def]
    answers = {q.id: "yes" for q in card.questions() if q.type == "yes_no"}
    result = score(card, answers | {"verified": "no", "polite": "No"})
    assert result.score == 0.0 and result.auto_failed
    assert result.failed_questions == ("verified", "polite")
    assert result.sections["opening"] == 33.3  # 1 / (1 + 2)
    assert result.sections["resolution"] == 100.0
    assert not score(card, answers | {"verified": "na"}).auto_failed


# ---------------------------------------------------------------- prefill


def test_prefill_from_present_tags(card) -> None:  # type: ignore[no-untyped-def]
    assert prefill(card, set()) == {}
    assert prefill(card, ["re-explain", "rushed", "agent-praise"]) == {
        "no_repeat": "no",
        "not_rushed": "no",
    }
    assert prefill(card, {"agent-rude"}) == {"polite": "no"}


def test_prefill_absent_rule_and_child_tags() -> None:
    rule = {"tag": "transfer", "when": "absent", "answer": "na"}
    small = parse_scorecard(tiny(na=True, prefill=rule))
    assert prefill(small, []) == {"q1": "na"}
    assert prefill(small, ["transfer"]) == {}
    assert prefill(small, ["transfer:billing"]) == {}  # a child counts as its parent
    assert prefill(small, ["transferred"]) == {"q1": "na"}  # a mere prefix does not
    with pytest.raises(TypeError, match="collection of tag names"):
        prefill(small, "transfer")


# ---------------------------------------------------------------- answers


def test_check_answers_normalises(card) -> None:  # type: ignore[no-untyped-def]
    got = check_answers(card, {
        "polite": True, "greeting": " Yes ", "verified": "N/A", "empathy": "3",
        "callback_kept": "n/a", "not_rushed": False, "resolved": None, "no_repeat": "",
        "explained_holds": "NA",
    })  # fmt: skip
    assert got == {
        "greeting": "yes", "verified": "na", "callback_kept": "na", "polite": "yes",
        "empathy": 3, "not_rushed": "no", "explained_holds": "na",
    }  # fmt: skip
    assert list(got) == [q.id for q in card.questions() if q.id in got]  # card order
    assert check_answers(card, {"empathy": 4.0}) == {"empathy": 4}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"nope": "yes"}, r"unknown question id 'nope'; valid ids: greeting, verified"),
        (
            {"greeting": "maybe"},
            r"question 'greeting': 'maybe' is not a valid answer; valid: yes, no",
        ),
        ({"greeting": "na"}, r"question 'greeting': 'na' .*valid: yes, no$"),
        ({"empathy": 6}, r"question 'empathy': 6 .*valid: 1, 2, 3, 4, 5$"),
        ({"empathy": True}, r"question 'empathy': True .*valid: 1, 2, 3, 4, 5"),
        ({"empathy": 2.5}, r"question 'empathy': 2.5 "),
        ({"verified": 1}, r"question 'verified': 1 .*valid: yes, no, na"),
    ],
)
def test_check_answers_errors_name_question_and_choices(card, answers, expected) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=expected):
        check_answers(card, answers)
    with pytest.raises(ValueError, match=expected):
        score(card, answers)


# ---------------------------------------------------------------- validation


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``data`` at a JSON path like ``sections[1].questions[0].type``."""
    keys = [int(k[1:-1]) if k.startswith("[") else k for k in re.findall(r"\w+|\[\d+\]", path)]
    node: Any = data
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("sections[1].questions[0].type", "yesno",
         "sections[1].questions[0].type: 'yesno' is not one of: yes_no, scale"),
        ("sections[0].questions[0].weight", -1,
         "sections[0].questions[0].weight: -1 is not a number > 0"),
        ("sections[0].questions[0].weight", True,
         "sections[0].questions[0].weight: True is not a number > 0"),
        ("sections[3].questions[1].auto_fail", True,
         "sections[3].questions[1].auto_fail: only yes_no questions can auto-fail"),
        ("sections[1].questions[0].prefill", RULE | {"answer": "No"},
         "sections[1].questions[0].prefill.answer: 'No' is not one of: yes, no"),
        ("sections[1].questions[0].prefill", RULE | {"answer": "na"},
         "sections[1].questions[0].prefill.answer: 'na' is not one of: yes, no"),
        ("sections[1].questions[0].prefill", RULE | {"when": "always"},
         "sections[1].questions[0].prefill.when: 'always' is not one of: present, absent"),
        ("sections[1].questions[0].prefill", {"tag": "re-explain", "answer": "no"},
         "sections[1].questions[0].prefill.when: missing (required)"),
        ("sections[2].questions[0].id", "greeting",
         "sections[2].questions[0].id: duplicate question id 'greeting' "
         "(first at sections[0].questions[0].id)"),
        ("sections[4].id", "opening",
         "sections[4].id: duplicate section id 'opening' (first at sections[0].id)"),
        ("sections[0].questions[0].wieght", 2,
         "sections[0].questions[0].wieght: unknown key 'wieght'; known keys: id, text, type, "
         "weight, na, auto_fail, prefill"),
        ("owner", "qa-team",
         "owner: unknown key 'owner'; known keys: id, title, version, sections"),
        ("version", "1", "version: '1' is not an integer >= 1"),
        ("id", "Default Card", "id: 'Default Card' is not an id"),
        ("sections", [], "sections: [] is not a non-empty list"),
        ("sections[0].questions[0].na", "no",
         "sections[0].questions[0].na: 'no' is not true or false"),
        ("sections[0].questions[0]", "greeting",
         "sections[0].questions[0]: expected an object, got str"),
    ],
)  # fmt: skip
def test_validation_error_names_file_and_json_path(raw, path, value, expected) -> None:  # type: ignore[no-untyped-def]
    _set(raw, path, value)
    with pytest.raises(ScorecardError) as info:
        parse_scorecard(raw, source="cards/default.json")
    message = str(info.value)
    assert message.startswith("cards/default.json: ")
    assert expected in message
    assert info.value.source == "cards/default.json" and len(info.value.problems) >= 1


def test_missing_keys_and_every_problem_reported(raw) -> None:  # type: ignore[no-untyped-def]
    del raw["sections"][0]["questions"][0]["text"]
    raw["sections"][0]["questions"][1]["weight"] = 0
    raw["sections"][3]["questions"][1]["type"] = "stars"
    with pytest.raises(ScorecardError) as info:
        parse_scorecard(raw, source="x.json")
    assert info.value.problems == (
        "sections[0].questions[0].text: missing (required)",
        "sections[0].questions[1].weight: 0 is not a number > 0",
        "sections[3].questions[1].type: 'stars' is not one of: yes_no, scale",
    )
    assert str(info.value).startswith("x.json: 3 problems:\n  - sections[0].questions[0].text")
    with pytest.raises(ScorecardError, match=r"^<scorecard>: \(top level\): expected an object"):
        parse_scorecard([])  # type: ignore[arg-type]


def test_bad_json_and_missing_file_name_the_file_and_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x",\n  "title": }\n', encoding="utf-8")
    with pytest.raises(ScorecardError, match=r"bad\.json: line 2 column 12: invalid JSON"):
        load_scorecard(bad)
    with pytest.raises(ScorecardError, match=r"nothere\.json: cannot read: No such file"):
        load_scorecard(tmp_path / "nothere.json")


# ---------------------------------------------------------------- digest and folders


def test_digest_follows_meaning_not_layout(raw, card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    relaid = tmp_path / "relaid.json"
    relaid.write_text(json.dumps(raw, indent=4, sort_keys=True), encoding="utf-8")
    assert load_scorecard(relaid).digest == card.digest
    implicit = copy.deepcopy(raw)
    del implicit["sections"][0]["questions"][0]["weight"]  # the default, 1
    assert parse_scorecard(implicit).digest == card.digest
    raw["sections"][0]["questions"][0]["weight"] = 1.5
    assert parse_scorecard(raw).digest != card.digest


def test_load_scorecards_by_id_and_duplicates(raw, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert load_scorecards(tmp_path) == {}  # no scorecards folder
    folder = tmp_path / SCORECARDS_DIR
    folder.mkdir()
    assert load_scorecards(tmp_path) == {}
    (folder / "a.json").write_text(json.dumps(raw), encoding="utf-8")
    (folder / "b.json").write_text(json.dumps(tiny()), encoding="utf-8")
    (folder / "notes.txt").write_text("not a scorecard", encoding="utf-8")
    cards = load_scorecards(tmp_path)
    assert sorted(cards) == ["default", "tiny"]
    assert cards["tiny"].questions()[0].weight == 1.0
    (folder / "c.json").write_text(json.dumps(tiny(text="Another")), encoding="utf-8")
    with pytest.raises(ScorecardError, match=r"c\.json: id: duplicate scorecard id 'tiny' "
                       r"\(also in .*b\.json\)"):  # fmt: skip
        load_scorecards(tmp_path)
