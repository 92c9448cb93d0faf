"""The committee's arithmetic, with numbers worked out by hand."""

import math

import pytest

from sessions_app.reviewing import scores

A, B, C, D = 1, 2, 3, 4


def ranking(rows) -> list[int]:
    return [row.session_id for row in scores.ranked(rows.values())]


def test_opposite_leniency_ranks_as_two_neutral_reviewers():
    # Two neutral reviewers agree: B 0.7, A 0.5, C 0.3.
    neutral = [(p, r, t) for r in (10, 11) for p, t in ((A, 0.5), (B, 0.7), (C, 0.3))]
    # A lenient one gives each 0.2 more, a harsh one 0.2 less.
    opposite = [(A, 20, 0.7), (B, 20, 0.9), (C, 20, 0.5), (A, 21, 0.3), (B, 21, 0.5), (C, 21, 0.1)]
    calm = scores.table([A, B, C], neutral)
    split = scores.table([A, B, C], opposite)

    assert ranking(calm) == ranking(split) == [B, A, C]
    # Each reviewer's totals lie 0.2 apart around their mean: the standard deviation is
    # sqrt((0.2² + 0 + 0.2²) / 3) = 0.16330, so B is +0.2 / 0.16330 = +1.2247 for both.
    for rows in (calm, split):
        assert rows[B].score == pytest.approx(0.2 / math.sqrt(0.08 / 3))
        assert rows[A].score == pytest.approx(0.0)
        assert rows[C].score == pytest.approx(-0.2 / math.sqrt(0.08 / 3))
    assert split[B].mean == pytest.approx(0.7) and split[B].spread == pytest.approx(0.4)


def test_a_reviewer_who_gives_everything_five_counts_as_one_who_gives_everything_two():
    # One reviewer sees A and B and is generous; another sees C and D and is harsh. By the
    # plain mean A and B beat C and D for their reviewer alone; normalised, each reviewer's
    # better proposal is +1 and their worse one -1.
    totals = [(A, 10, 1.0), (B, 10, 0.8), (C, 11, 0.4), (D, 11, 0.2)]
    rows = scores.table([A, B, C, D], totals)

    assert [rows[p].mean for p in (A, B, C, D)] == [1.0, 0.8, 0.4, 0.2]
    assert [rows[p].score for p in (A, B, C, D)] == [
        pytest.approx(1.0),
        pytest.approx(-1.0),
        pytest.approx(1.0),
        pytest.approx(-1.0),
    ]
    # A tie on the score goes to the higher mean; proposals without reviews come last.
    assert ranking(scores.table([A, B, C, D, 5], totals)) == [A, C, B, D, 5]


def test_a_reviewer_whose_scores_are_all_alike_says_nothing():
    rows = scores.table([A, B], [(A, 10, 0.6), (B, 10, 0.6), (A, 11, 0.9), (B, 11, 0.3)])
    assert rows[A].score == pytest.approx(0.5)  # (0 + 1) / 2
    assert rows[B].score == pytest.approx(-0.5)
    assert rows[A].median == pytest.approx(0.75)
