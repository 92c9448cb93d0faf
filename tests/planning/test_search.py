"""The compiled steps of the local search (``planning.search``) keep their books: after
thousands of heat-bath moves, relocations and swaps at several temperatures, and a pass of
the steepest descent, what they tally (the score's change, the clashes) and what they hold
(who is in each room and with each speaker in each tick, the rooms of each track) are what
the schedule they reached has when counted afresh by the solver's own scoring."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sessions_app.planning import search
from sessions_app.planning.generate import event_problem
from sessions_app.planning.solver import Weights, cost, greedy, options, score, valid


@pytest.mark.parametrize("seed", [1, 2])
def test_the_compiled_steps_keep_their_books(seed):
    plain = event_problem(sessions=60, rooms=4, days=1, seed=seed)
    base = greedy(plain)
    assert not base.reasons
    # A third of the sessions placed already (moving them costs), the pinned keynote fixed.
    items = tuple(
        dataclasses.replace(item, current=base.placements[item.id])
        if item.id % 3 == 0 and not item.pinned
        else item
        for item in plain.items
    )
    problem = dataclasses.replace(plain, items=items, move_placed=True)
    movable = {item.id for item in problem.items if not item.pinned}
    choices = {item.id: options(problem, item) for item in problem.items if item.id in movable}
    weights = Weights()
    state = search._Arrays(problem, base.placements, weights, choices, movable)
    args = state.args()
    search._seed(seed)
    for temperature in (80.0, 30.0, 5.0):
        search._anneal(3000, temperature, 0.5, search.HEAT, *args)
    search._descend(0, *args)

    reached = state.placements(state.pos[:, :2])
    assert reached != base.placements  # it moved
    assert valid(problem, reached) == []
    before = cost(problem, base.placements, weights)
    assert state.tally[search.COST] == cost(problem, reached, weights) - before
    assert state.tally[search.CLASHES] == score(problem, reached).attendee_clashes
    assert state.tally[search.STEPS] == 9000
    fresh = search._Arrays(problem, reached, weights, choices, movable)
    for held in ("room_occ", "sp_occ", "track_count", "track_distinct"):
        assert np.array_equal(getattr(state, held), getattr(fresh, held)), held

    best = state.placements(state.best)
    assert valid(problem, best) == []
    assert state.tally[search.BEST_COST] == cost(problem, best, weights) - before < 0
    assert state.tally[search.BEST_CLASHES] == score(problem, best).attendee_clashes
    # Pinned sessions never moved.
    for item in problem.items:
        if item.pinned:
            assert best[item.id] == item.current == reached[item.id]


def test_the_same_seed_and_steps_give_the_same_schedule():
    problem = event_problem(sessions=60, rooms=4, days=1, seed=3)
    base = greedy(problem).placements
    movable = {item.id for item in problem.items if not item.pinned}
    choices = {item.id: options(problem, item) for item in problem.items if item.id in movable}

    def after(seed: int) -> dict:
        state = search._Arrays(problem, base, Weights(), choices, movable)
        search._seed(seed)
        search._anneal(2000, 50.0, 0.5, search.HEAT, *state.args())
        return state.placements(state.best)

    assert after(7) == after(7)
    assert after(7) != after(8)
