"""Inter-rater agreement (qa.review.agreement) against the packages and textbook formulas."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

from qa.review.agreement import Agreement, Rating, agreement, agreements, format_table

ITEMS = [f"C-{1001 + i}" for i in range(12)]
# Two reviewers tagging "re-explain" on 12 calls; they split on C-1004, C-1009 and C-1012.
ANA = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
BEN = [1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1]


def _ratings(columns: dict[str, list], items: list[str] = ITEMS, cast=lambda v: v) -> list[Rating]:
    """Rating rows from rater -> values per item, None meaning the rater skipped that item."""
    return [
        Rating(item, rater, cast(value))
        for rater, values in columns.items()
        for item, value in zip(items, values, strict=True)
        if value is not None
    ]


def test_two_raters_match_krippendorff_statsmodels_and_the_textbook() -> None:
    result = agreement(_ratings({"ana": ANA, "ben": BEN}, cast=bool), subject="re-explain")

    assert (result.items, result.raters, result.ratings) == (12, 2, 24)
    assert result.disagreements == ("C-1004", "C-1009", "C-1012")
    assert result.observed == pytest.approx(9 / 12)
    assert result.note == ""

    # Alpha: the package on a hand-built raters x items matrix (False=0, True=1)...
    expected_alpha = krippendorff.alpha(
        reliability_data=np.array([ANA, BEN], dtype=float), level_of_measurement="nominal"
    )
    assert round(result.alpha, 3) == round(expected_alpha, 3)
    # ...and the textbook form for two raters, binary, none missing:
    # alpha = 1 - (n - 1) * disagreeing units / (n0 * n1), n pairable values.
    n, ones = 24, sum(ANA) + sum(BEN)
    textbook_alpha = 1 - (n - 1) * 3 / ((n - ones) * ones)
    assert result.alpha == pytest.approx(textbook_alpha)
    assert round(result.alpha, 3) == 0.489  # 66 / 135

    # Kappa: statsmodels on the hand-built 2x2 table (rows ana, columns ben; False, True)...
    table = np.array([[3, 2], [1, 6]])
    assert result.kappa_kind == "cohen"
    assert result.kappa_items == 12
    assert round(result.kappa, 3) == round(cohens_kappa(table).kappa, 3)
    # ...and po / pe by hand.
    po = (3 + 6) / 12
    pe = (5 / 12) * (4 / 12) + (7 / 12) * (8 / 12)
    assert result.kappa == pytest.approx((po - pe) / (1 - pe))
    assert result.kappa == pytest.approx(8 / 17)


def test_three_raters_use_fleiss_over_items_every_rater_rated() -> None:
    items = ITEMS[:8]
    columns = {
        "ana": ["yes", "yes", "no", "na", "yes", "no", "yes", "no"],
        "ben": ["yes", "no", "no", "na", "yes", "no", "yes", "yes"],
        # Cleo skipped C-1008: it counts for alpha (two raters) but not for Fleiss.
        "cleo": ["yes", "yes", "no", "no", "yes", "no", "na", None],
    }
    result = agreement(
        _ratings(columns, items), subject="greeting", kind="question", level="nominal"
    )

    assert (result.items, result.raters, result.ratings) == (8, 3, 23)
    assert result.kappa_kind == "fleiss"
    assert result.kappa_items == 7
    assert result.disagreements == ("C-1002", "C-1004", "C-1007", "C-1008")

    # Fleiss by hand: codes na=0, no=1, yes=2 (sorted by str), the 7 complete items only.
    code = {"na": 0, "no": 1, "yes": 2}
    data = np.array([[code[columns[r][i]] for r in ("ana", "ben", "cleo")] for i in range(7)])
    counts = aggregate_raters(data)[0]
    assert round(result.kappa, 3) == round(fleiss_kappa(counts), 3)
    # Textbook Fleiss: mean per-item agreement against chance from the category shares.
    per_item = ((counts**2).sum(axis=1) - 3) / (3 * 2)
    shares = counts.sum(axis=0) / counts.sum()
    chance = (shares**2).sum()
    assert result.kappa == pytest.approx((per_item.mean() - chance) / (1 - chance))

    # Alpha uses all 8 items, nan where Cleo skipped.
    matrix = np.array(
        [[np.nan if v is None else code[v] for v in columns[r]] for r in ("ana", "ben", "cleo")]
    )
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert round(result.alpha, 3) == round(expected, 3)
    # Pairwise: 7 complete items give 3 pairs each, C-1008 one pair; 22 pairs, 15 agree
    # (3 + 1 + 3 + 1 + 3 + 3 + 1 + 0).
    assert result.observed == pytest.approx(15 / 22)


def test_ordinal_scores_reproduce_the_published_example() -> None:
    # Krippendorff's 4 coders x 12 units example (ordinal alpha 0.815, per the package's docs).
    columns = {
        "r1": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "r2": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "r3": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "r4": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    ratings = _ratings(columns)
    result = agreement(ratings, subject="empathy", kind="question", level="ordinal")

    # C-1012 was scored by r2 alone: dropped.
    assert (result.items, result.raters, result.ratings) == (11, 4, 40)
    assert round(result.alpha, 3) == 0.815
    matrix = np.array([[np.nan if v is None else v for v in vs] for vs in columns.values()])
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal")
    assert round(result.alpha, 3) == round(expected, 3)
    # Fleiss over the 8 units all four scored (C-1002 .. C-1009).
    assert (result.kappa_kind, result.kappa_items) == ("fleiss", 8)
    data = np.array([[columns[r][i] for r in columns] for i in range(1, 9)])
    assert round(result.kappa, 3) == round(fleiss_kappa(aggregate_raters(data)[0]), 3)

    # Ordinal credits near misses, so it beats the nominal reading of the same scores.
    nominal = agreement(ratings, subject="empathy", kind="question", level="nominal")
    assert result.alpha > nominal.alpha
    assert round(nominal.alpha, 3) == round(
        krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"), 3
    )


def test_ordinal_needs_numbers() -> None:
    ratings = [Rating("C-1", "ana", 4), Rating("C-1", "ben", "yes")]
    with pytest.raises(ValueError, match=r"'greeting'.*'yes'"):
        agreement(ratings, subject="greeting", kind="question", level="ordinal")


def test_every_rating_the_same_leaves_alpha_and_kappa_undefined() -> None:
    ratings = _ratings({"ana": [True] * 5, "ben": [True] * 5}, ITEMS[:5])
    result = agreement(ratings, subject="greeting")
    assert result.items == 5
    assert result.alpha is None
    assert result.kappa is None
    assert result.kappa_kind == "cohen"
    assert result.note == "every rating is the same value"
    assert result.observed == 1.0
    assert result.disagreements == ()


def test_single_rater_counts_no_items() -> None:
    result = agreement(_ratings({"ana": ANA}, cast=bool), subject="re-explain")
    assert (result.items, result.raters, result.ratings) == (0, 0, 0)
    assert (result.alpha, result.kappa, result.kappa_kind, result.observed) == (None,) * 4
    assert result.kappa_items == 0
    assert "fewer than 2 items" in result.note


def test_fleiss_needs_two_complete_items() -> None:
    columns = {"ana": [1, 0, 1], "ben": [1, 0, 0], "cleo": [None, None, 1]}
    result = agreement(_ratings(columns, ITEMS[:3]), subject="hold")
    assert result.alpha is not None
    assert (result.kappa, result.kappa_kind, result.kappa_items) == (None, "fleiss", 1)
    assert "fleiss kappa needs 2+ items" in result.note


def test_last_rating_wins_and_disagreements_are_exact() -> None:
    ratings = [
        Rating("C-2", "ana", "yes"),
        Rating("C-2", "ben", "no"),
        Rating("C-2", "ben", "yes"),  # ben's re-review: now agrees
        Rating("C-1", "ana", "no"),
        Rating("C-1", "ben", "no"),
        Rating("C-3", "ana", "na"),
        Rating("C-3", "ben", "no"),
        Rating("C-4", "ana", "yes"),  # one rater only: dropped
    ]
    result = agreement(ratings, subject="greeting", kind="question")
    assert result.items == 3
    assert result.ratings == 6
    assert result.disagreements == ("C-3",)
    assert result.observed == pytest.approx(2 / 3)

    flipped = agreement([*ratings, Rating("C-1", "ana", "yes")], subject="greeting")
    assert flipped.disagreements == ("C-1", "C-3")


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"level": "interval"}, r"level must be one of 'nominal', 'ordinal'; got 'interval'"),
        ({"kind": "scorecard"}, r"kind must be one of 'tag', 'question'; got 'scorecard'"),
    ],
)
def test_bad_level_or_kind_names_the_options(options: dict[str, str], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        agreement([], subject="greeting", **options)


def test_agreements_sorted_with_levels_and_table() -> None:
    tags = _ratings({"ana": ANA, "ben": BEN}, cast=bool)
    scores = _ratings({"ana": [5, 4, 3, 2], "ben": [5, 3, 3, 1]}, ITEMS[:4])
    rows = agreements(
        {
            ("tag", "re-explain"): tags,
            ("question", "empathy"): scores,
            ("tag", "hold"): tags[:1],
        },
        levels={"empathy": "ordinal"},
    )
    assert [(r.kind, r.subject, r.level) for r in rows] == [
        ("question", "empathy", "ordinal"),
        ("tag", "hold", "nominal"),
        ("tag", "re-explain", "nominal"),
    ]

    table = format_table(rows).splitlines()
    assert table[0].split() == [
        "kind",
        "subject",
        "items",
        "raters",
        "alpha",
        "kappa",
        "observed",
        "disagree",
    ]
    assert table[3].split() == [
        "tag",
        "re-explain",
        "12",
        "2",
        "0.489",
        "0.471",
        "(cohen)",
        "0.750",
        "3",
    ]
    assert table[2].split() == ["tag", "hold", "0", "0", "-", "-", "-", "0"]
    # Columns line up: every row's "items" cell ends where the header's does.
    end = table[0].index("items") + len("items")
    assert all(line[end - 1].isdigit() for line in table[1:])


def test_to_dict_is_plain() -> None:
    result = agreement(_ratings({"ana": ANA, "ben": BEN}, cast=bool), subject="re-explain")
    row = result.to_dict()
    assert row["disagreements"] == ["C-1004", "C-1009", "C-1012"]
    assert row["kappa_kind"] == "cohen"
    assert set(row) == {f for f in Agreement.__dataclass_fields__}
    assert not any(isinstance(v, float) and math.isnan(v) for v in row.values())
