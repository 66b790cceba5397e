"""Scorecards as data: QA teams define them in ``<models>/scorecards/*.json``, one per file.

``{"id": "default", "title": "Customer service call", "version": 1, "sections": [{"id":
"opening", "title": "Opening", "questions": [{"id": "verified", "text": "Verified the
customer's identity", "type": "yes_no", "weight": 2, "auto_fail": true, "na": true}]}]}``
(see ``models/scorecards/default.json``). Required: the card's id, title, version, sections;
a section's id, title, questions; a question's id, text and type:

- ``type``: ``yes_no`` (answers ``"yes"`` / ``"no"``) or ``scale`` (integers 1..5).
- ``weight`` (default 1): a number > 0. ``na`` (default false): ``"na"`` is also an answer.
- ``auto_fail`` (default false, yes_no only): a ``"no"`` fails the whole review (score 0).
- ``prefill`` (optional): ``{"tag": str, "when": "present" | "absent", "answer": ...}``
  pre-answers the question from the call's tags; ``answer`` must be one of its answers exactly.
  A rule on a parent tag (``transfer``) also holds for its children (``transfer:billing``).

Ids are lower-case letters, digits, ``_`` and ``-``; section ids are unique in a card, question
ids across all its sections. ``version`` is an integer >= 1; lists are non-empty; unknown keys
are errors. Scoring: yes = 1, no = 0, scale v = (v - 1) / 4; ``na`` and unanswered questions
count in neither numerator nor denominator; score = 100 x sum(weight x value) / sum(weight).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCORECARDS_DIR = "scorecards"  # under the models dir
TYPES = ("yes_no", "scale")
WHENS = ("present", "absent")
SCALE = (1, 2, 3, 4, 5)
NA = "na"
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
_NA_SPELLINGS = frozenset({"na", "n/a", "n.a.", "not applicable"})
_CARD_KEYS = ("id", "title", "version", "sections")
_SECTION_KEYS = ("id", "title", "questions")
_QUESTION_KEYS = ("id", "text", "type", "weight", "na", "auto_fail", "prefill")
_PREFILL_KEYS = ("tag", "when", "answer")


class ScorecardError(ValueError):
    """A scorecard that cannot be used; the message names the file and each problem's JSON path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source, self.problems = source, tuple(problems)
        lines = problems if len(problems) == 1 else [f"{len(problems)} problems:", *problems]
        super().__init__(f"{source}: " + "\n  - ".join(lines))


@dataclass(frozen=True)
class Prefill:
    """Pre-answer a question with ``answer`` when ``tag`` is ``when`` ("present"/"absent")."""

    tag: str
    when: str
    answer: str | int

    def holds(self, tags: Collection[str]) -> bool:
        """Whether the rule applies to a call with these effective tags."""
        present = self.tag in tags or any(t.startswith(f"{self.tag}:") for t in tags)
        return present == (self.when == "present")


@dataclass(frozen=True)
class Question:
    """One scorecard question."""

    id: str
    text: str
    type: str
    weight: float
    na: bool
    auto_fail: bool
    prefill: Prefill | None

    def choices(self) -> tuple[str | int, ...]:
        """Valid answers in display order, e.g. ``("yes", "no", "na")``."""
        base: tuple[str | int, ...] = ("yes", "no") if self.type == "yes_no" else SCALE
        return (*base, NA) if self.na else base


@dataclass(frozen=True)
class Section:
    """A titled group of questions, scored on its own as well as in the total."""

    id: str
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Scorecard:
    """A validated scorecard; ``digest`` identifies the exact definition a review used."""

    id: str
    title: str
    version: int
    sections: tuple[Section, ...]
    digest: str

    def questions(self) -> tuple[Question, ...]:
        """Every question, in card order."""
        return tuple(q for s in self.sections for q in s.questions)

    def question(self, qid: str) -> Question:
        """The question ``qid``; KeyError listing the valid ids."""
        by_id = {q.id: q for q in self.questions()}
        if qid not in by_id:
            raise KeyError(f"unknown question id {qid!r} in {self.ref}; valid: {', '.join(by_id)}")
        return by_id[qid]

    @property
    def ref(self) -> str:
        """``id@vN``: the human-readable name of this definition."""
        return f"{self.id}@v{self.version}"


@dataclass(frozen=True)
class ScoreResult:
    """A review's score. ``answered`` counts scorable (non-na) answers; ``na`` the na ones."""

    score: float | None
    auto_failed: bool
    failed_questions: tuple[str, ...]
    sections: dict[str, float | None]
    answered: int
    na: int
    unanswered: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        data = dataclasses.asdict(self)  # copies the sections dict
        return {key: list(v) if isinstance(v, tuple) else v for key, v in data.items()}


# What each key must hold, by key name: a key means the same thing at every level of the file.
# type() rather than isinstance: True is an int; JSON may also carry NaN and Infinity.
_TEXT = (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string")
_FLAG = (lambda v: type(v) is bool, "true or false")
_LIST = (lambda v: type(v) is list and v != [], "a non-empty list")
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "id": (lambda v: isinstance(v, str) and bool(_ID.match(v)), "an id (a-z, 0-9, _, -)"),
    "version": (lambda v: type(v) is int and v >= 1, "an integer >= 1"),
    "type": (lambda v: v in TYPES, f"one of: {', '.join(TYPES)}"),
    "when": (lambda v: v in WHENS, f"one of: {', '.join(WHENS)}"),
    "weight": (lambda v: type(v) in (int, float) and math.isfinite(v) and v > 0, "a number > 0"),
    "title": _TEXT, "text": _TEXT, "tag": _TEXT, "na": _FLAG, "auto_fail": _FLAG,
    "sections": _LIST, "questions": _LIST,
}  # fmt: skip


def _exact_choice(value: Any, choices: tuple[str | int, ...]) -> bool:
    # Type-exact: True == 1 and 1.0 == 1 in Python, but neither is a valid scale answer.
    return any(type(value) is type(c) and value == c for c in choices)


class _Checker:
    """Collects every problem with its JSON path (``at``: a prefix, "" or "sections[0].")."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.seen: dict[str, dict[str, str]] = {"section": {}, "question": {}}

    def bad(self, path: str, message: str) -> None:
        self.problems.append(f"{path.rstrip('.') or '(top level)'}: {message}")

    def object(self, data: Any, at: str, keys: tuple[str, ...], required: int) -> Mapping[str, Any]:
        """``data`` if it is an object with only ``keys``, the first ``required`` of them."""
        if not isinstance(data, Mapping):
            self.bad(at, f"expected an object, got {type(data).__name__}")
            return {}
        for key in data:
            if key not in keys:
                self.bad(at + key, f"unknown key {key!r}; known keys: {', '.join(keys)}")
        for key in keys[:required]:
            if key not in data:
                self.bad(at + key, "missing (required)")
        return data

    def field(self, data: Mapping[str, Any], at: str, key: str, default: Any) -> Any:
        """``data[key]`` checked against its rule; ``default`` when absent or invalid."""
        ok, rule = _RULES[key]
        if key in data and not ok(data[key]):
            self.bad(at + key, f"{data[key]!r} is not {rule}")
            return default
        return data.get(key, default)

    def claim(self, kind: str, ident: str, at: str) -> None:
        """Record a section / question id, reporting it when an earlier one has it."""
        first = self.seen[kind].setdefault(ident, at + "id")
        if ident and first != at + "id":
            self.bad(at + "id", f"duplicate {kind} id {ident!r} (first at {first})")


def _question(check: _Checker, raw: Any, at: str) -> Question:
    data = check.object(raw, at, _QUESTION_KEYS, required=3)
    get = functools.partial(check.field, data, at)
    question = Question(
        get("id", ""), get("text", ""), get("type", "yes_no"), float(get("weight", 1)),
        get("na", False), get("auto_fail", False), prefill=None,
    )  # fmt: skip
    check.claim("question", question.id, at)
    if question.auto_fail and question.type != "yes_no":
        check.bad(at + "auto_fail", "only yes_no questions can auto-fail, not scale")
    if data.get("prefill") is None:
        return question
    at += "prefill."
    rule = check.object(data["prefill"], at, _PREFILL_KEYS, required=3)
    answer, choices = rule.get("answer"), question.choices()
    # Judge the answer only against a valid type; a bad or missing type is reported already.
    if "answer" in rule and data.get("type") in TYPES and not _exact_choice(answer, choices):
        check.bad(at + "answer", f"{answer!r} is not one of: {', '.join(map(str, choices))}")
    prefill = Prefill(check.field(rule, at, "tag", ""), check.field(rule, at, "when", ""), answer)
    return dataclasses.replace(question, prefill=prefill)


def parse_scorecard(data: Mapping[str, Any], *, source: str = "<scorecard>") -> Scorecard:
    """Validate ``data`` (a decoded scorecard file); ScorecardError lists every problem."""
    check = _Checker()
    card = check.object(data, "", _CARD_KEYS, required=4)
    card_id, title = check.field(card, "", "id", ""), check.field(card, "", "title", "")
    version = check.field(card, "", "version", 1)
    sections = []
    for i, raw in enumerate(check.field(card, "", "sections", [])):
        at = f"sections[{i}]."
        section = check.object(raw, at, _SECTION_KEYS, required=3)
        check.claim("section", section_id := check.field(section, at, "id", ""), at)
        questions = enumerate(check.field(section, at, "questions", []))
        sections.append(Section(
            section_id, check.field(section, at, "title", ""),
            tuple(_question(check, q, f"{at}questions[{j}].") for j, q in questions),
        ))  # fmt: skip
    if check.problems:
        raise ScorecardError(source, check.problems)
    # Digest the normalised form (defaults filled in, weights as floats, keys sorted), so that
    # layout and omitted defaults don't change it but any change in meaning or wording does.
    canonical = dataclasses.asdict(Scorecard(card_id, title, version, tuple(sections), ""))
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return Scorecard(card_id, title, version, tuple(sections), digest)


def load_scorecard(path: str | Path) -> Scorecard:
    """Read and validate one scorecard file; ScorecardError when missing, not JSON or invalid."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise ScorecardError(str(path), [f"{where}: invalid JSON: {exc.msg}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else exc
        raise ScorecardError(str(path), [f"cannot read: {reason}"]) from None
    return parse_scorecard(data, source=str(path))


def load_scorecards(models_dir: str | Path) -> dict[str, Scorecard]:
    """Every ``models_dir/scorecards/*.json`` by id (``{}`` when none); duplicate ids are errors."""
    cards: dict[str, Scorecard] = {}
    files: dict[str, Path] = {}
    for path in sorted((Path(models_dir) / SCORECARDS_DIR).glob("*.json")):
        card = load_scorecard(path)
        if card.id in files:
            problem = f"id: duplicate scorecard id {card.id!r} (also in {files[card.id]})"
            raise ScorecardError(str(path), [problem])
        cards[card.id], files[card.id] = card, path
    return cards


def _normalise(question: Question, raw: Any) -> str | int | None:
    """``raw`` as one of the question's choices, or None when it is not a valid answer."""
    value: Any = raw
    if isinstance(raw, bool):
        value = "yes" if raw else "no"
    elif isinstance(raw, str):
        value = raw.strip().lower()
        if value in _NA_SPELLINGS:
            value = NA
        elif question.type == "scale" and re.fullmatch(r"[0-9]+", value):
            value = int(value)
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)  # 3.0 from a spreadsheet or a JS number input
    return value if _exact_choice(value, question.choices()) else None


def check_answers(card: Scorecard, answers: Mapping[str, Any]) -> dict[str, str | int]:
    """Answers normalised ("Yes" -> "yes", "3" -> 3, "N/A" -> "na", True -> "yes"), in card order;
    None and blank mean unanswered. ValueError names each unknown id / invalid answer."""
    by_id = {q.id: q for q in card.questions()}
    checked: dict[str, str | int] = {}
    problems: list[str] = []
    for qid, raw in answers.items():
        question = by_id.get(qid)
        if question is None:
            problems.append(f"unknown question id {qid!r}; valid ids: {', '.join(by_id)}")
        elif raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        elif (value := _normalise(question, raw)) is None:
            valid = ", ".join(map(str, question.choices()))
            problems.append(f"question {qid!r}: {raw!r} is not a valid answer; valid: {valid}")
        else:
            checked[qid] = value
    if problems:
        raise ValueError(f"answers for scorecard {card.ref}: " + "; ".join(problems))
    return {qid: checked[qid] for qid in by_id if qid in checked}


def prefill(card: Scorecard, tags: Collection[str]) -> dict[str, str | int]:
    """Answers pre-filled from the call's effective ``tags``, for rules whose condition holds."""
    if isinstance(tags, str):  # a bare tag would be read as a set of letters
        raise TypeError(f"tags must be a collection of tag names, not the string {tags!r}")
    present = set(tags)
    rules = [(q.id, q.prefill) for q in card.questions() if q.prefill is not None]
    return {qid: rule.answer for qid, rule in rules if rule.holds(present)}


def _percent(answers: list[tuple[Question, str | int]]) -> float | None:
    """100 x sum(weight x value) / sum(weight) over the non-na answers; None when there are none."""
    scored = [(q.weight, (a - 1) / 4 if isinstance(a, int) else float(a == "yes"))
              for q, a in answers if a != NA]  # fmt: skip
    weights = sum(weight for weight, _ in scored)
    return round(100 * sum(w * v for w, v in scored) / weights, 1) if weights else None


def score(card: Scorecard, answers: Mapping[str, Any]) -> ScoreResult:
    """Score ``answers`` (checked and normalised first) against ``card``."""
    checked = check_answers(card, answers)
    given = {s.id: [(q, checked[q.id]) for q in s.questions if q.id in checked]
             for s in card.sections}  # fmt: skip
    failed = tuple(q.id for q in card.questions() if q.auto_fail and checked.get(q.id) == "no")
    na = sum(answer == NA for answer in checked.values())
    return ScoreResult(
        score=0.0 if failed else _percent([pair for pairs in given.values() for pair in pairs]),
        auto_failed=bool(failed),
        failed_questions=failed,
        sections={section_id: _percent(pairs) for section_id, pairs in given.items()},
        answered=len(checked) - na,
        na=na,
        unanswered=tuple(q.id for q in card.questions() if q.id not in checked),
    )
