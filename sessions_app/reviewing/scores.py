"""Scores: from one review's answers to the committee's ranking.

A review's ``total`` (``services.reviews.review_total``, kept with the review) is the
weighted mean of its criteria, each as its value over the scale's top (so 0 to 1: a 4 of 5
is 0.8, a yes is 1). Reviewers differ in leniency: one
gives everything 5, another everything 2. The ``normalised`` score of a review is its
total as a z-score among the reviewer's own totals in the event (how far above or below
their own mean, in their own standard deviations); a reviewer whose totals are all alike
(or who gave one review) says nothing about one proposal against another, and counts 0.
A proposal's normalised score is the mean of its reviews'.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field


def leniency(totals: Iterable[tuple[int, int, float]]) -> dict[int, tuple[float, float, int]]:
    """Per reviewer: (mean, standard deviation, count) of their totals, from
    ``(session_id, reviewer_id, total)`` rows."""
    by_reviewer: dict[int, list[float]] = defaultdict(list)
    for _session, reviewer, total in totals:
        by_reviewer[reviewer].append(total)
    return {
        reviewer: (
            statistics.fmean(values),
            statistics.pstdev(values) if len(values) > 1 else 0.0,
            len(values),
        )
        for reviewer, values in by_reviewer.items()
    }


def normalised(total: float, mean: float, spread: float) -> float:
    return (total - mean) / spread if spread > 1e-9 else 0.0


@dataclass
class Row:
    """One proposal in the committee's table."""

    session_id: int
    totals: list[float] = field(default_factory=list)
    z: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.totals)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.totals) if self.totals else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.totals) if self.totals else None

    @property
    def spread(self) -> float | None:
        """The range of the reviews' totals: how much the reviewers disagree."""
        return max(self.totals) - min(self.totals) if self.totals else None

    @property
    def score(self) -> float | None:
        """The normalised score: what the ranking uses."""
        return statistics.fmean(self.z) if self.z else None


def table(session_ids: Iterable[int], totals: list[tuple[int, int, float]]) -> dict[int, Row]:
    """A row per proposal, from every review's ``(session_id, reviewer_id, total)`` of the
    event (every review, so that each reviewer's leniency is read from all they gave)."""
    lenient = leniency(totals)
    rows = {pk: Row(pk) for pk in session_ids}
    for session_id, reviewer, total in totals:
        row = rows.get(session_id)
        if row is None:
            continue
        mean, spread, _count = lenient[reviewer]
        row.totals.append(total)
        row.z.append(normalised(total, mean, spread))
    return rows


def ranked(rows: Iterable[Row]) -> list[Row]:
    """Best first by normalised score, then by mean; proposals without reviews last."""
    return sorted(
        rows,
        key=lambda row: (
            row.score is None,
            -(row.score or 0.0),
            -(row.mean or 0.0),
            row.session_id,
        ),
    )


def bradley_terry(
    session_ids: Iterable[int], comparisons: Iterable[tuple[int, int]]
) -> dict[int, float]:
    """Each proposal's strength from ``(winner, loser)`` judgements, by a Bradley-Terry
    model (choix's iterative Luce spectral ranking, lightly regularised so that a proposal
    that always wins, or a set never compared with the rest, still has a finite strength).
    Only proposals in at least one comparison are answered; higher is better, 0 is average.
    """
    import choix

    ids = sorted(set(session_ids))
    index = {pk: i for i, pk in enumerate(ids)}
    data = [
        (index[winner], index[loser])
        for winner, loser in comparisons
        if winner in index and loser in index
    ]
    if not data:
        return {}
    compared = {pk for pair in data for pk in pair}
    strengths = choix.ilsr_pairwise(len(ids), data, alpha=0.01)
    return {pk: float(strengths[index[pk]]) for pk in ids if index[pk] in compared}
