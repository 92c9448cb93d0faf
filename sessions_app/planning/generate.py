"""Generated events for the solver's tests and benchmark: rooms of mixed sizes, sessions of
20 to 45 minutes in tracks, speakers with several sessions and some with partial
availability, a lunch break that blocks every room, a sponsor's slot in the big room, a
pinned keynote, and registrants' choices skewed towards popular sessions (which give the
audiences and the pairs chosen together). Repeatable by ``seed``."""

from __future__ import annotations

import itertools
import random
from collections import Counter

from sessions_app.planning.solver import DAY, Item, Problem, Room, starts_for

H = 60
DAY_START, DAY_END = 8 * H, 19 * H
LUNCH = (12 * H + 30, 13 * H + 30)
CAPACITIES = [400, 200, 120, 80, 60, 40]


def event_problem(*, sessions: int, rooms: int, days: int, seed: int = 1) -> Problem:
    rng = random.Random(seed)  # noqa: S311 - repeatable test data, not a secret
    windows = tuple((d * DAY + DAY_START, d * DAY + DAY_END) for d in range(days))
    room_list = tuple(
        Room(r + 1, capacity=CAPACITIES[min(r, len(CAPACITIES) - 1)]) for r in range(rooms)
    )
    blocks = [(None, d * DAY + LUNCH[0], d * DAY + LUNCH[1]) for d in range(days)]
    blocks.append((1, DAY_START + 2 * H, DAY_START + 3 * H))  # the sponsor's hour, day one

    speaker_count = max(2, int(sessions * 0.7))
    items_speakers = []
    for _ in range(sessions):
        first = rng.randrange(speaker_count)
        pair = rng.random() < 0.2
        second = rng.randrange(speaker_count) if pair else first
        items_speakers.append(tuple(sorted({first + 1, second + 1})))
    # Some speakers come for part of the event only: one day, or one day's afternoon.
    availability = {}
    for speaker in range(1, speaker_count + 1):
        if rng.random() < 0.25:
            day = rng.randrange(days)
            lo = day * DAY + (DAY_START if rng.random() < 0.5 else 13 * H)
            availability[speaker] = ((lo, day * DAY + DAY_END),)

    # Registrants choose 6 to 10 sessions, popular ones more often (Zipf-like weights).
    popularity = [1.0 / (n + 1) ** 0.8 for n in range(sessions)]
    rng.shuffle(popularity)
    chosen = Counter()
    together = Counter()
    for _ in range(sessions * 3):
        picks = set()
        for _ in range(rng.randint(6, 10)):
            picks.add(rng.choices(range(sessions), weights=popularity)[0] + 1)
        chosen.update(picks)
        together.update(itertools.combinations(sorted(picks), 2))

    items = []
    for n in range(sessions):
        session_id = n + 1
        duration = rng.choice([20, 30, 30, 45])
        items.append(
            Item(
                session_id,
                duration,
                speakers=items_speakers[n],
                track=rng.randrange(5) + 1,
                audience=chosen[session_id],
            )
        )
    # The keynote: first thing on day one in the big room, pinned; its speaker is its own.
    keynote = Item(
        sessions + 1, 60, speakers=(speaker_count + 1,), audience=sessions * 2,
        current=(1, DAY_START), pinned=True,
    )  # fmt: skip
    items.append(keynote)
    # Speakers whose sessions do not fit their time are given the whole event instead.
    for speaker, windows_ in list(availability.items()):
        need = sum(i.duration for i in items if speaker in i.speakers)
        if need > sum(hi - lo for lo, hi in windows_) - (LUNCH[1] - LUNCH[0]):
            del availability[speaker]
    problem = Problem(
        days=windows,
        rooms=room_list,
        items=tuple(items),
        step=15,
        blocks=tuple(blocks),
        availability=availability,
        together=dict(together),
    )
    # Two speakers of one session who are never there together: the second comes when the
    # first does.
    for item in items:
        if len(item.speakers) > 1 and not starts_for(problem, item):
            for speaker in item.speakers[1:]:
                availability.pop(speaker, None)
    return problem


# The kind of event an organiser brings after a call: every session approved and none placed
# yet, lengths from the call's session types, six rooms of which five are alike, two days
# from 08:00 to 20:00 with lunch, and the registrants' interests (Zipf-like popularity).
TYPE_LENGTHS = [30, 30, 30, 45, 45, 60, 90]


def after_the_call(
    *,
    sessions: int = 120,
    rooms: int = 6,
    days: int = 2,
    speakers: int = 80,
    registrants: int = 600,
    seed: int = 1,
) -> Problem:
    rng = random.Random(seed)  # noqa: S311 - repeatable test data, not a secret
    windows = tuple((d * DAY + 8 * H, d * DAY + 20 * H) for d in range(days))
    room_list = tuple(Room(r + 1, capacity=300 if r == 0 else 100) for r in range(rooms))
    blocks = tuple((None, d * DAY + LUNCH[0], d * DAY + LUNCH[1]) for d in range(days))
    # Every speaker has a session; the rest go to speakers already named (some give two).
    owners = list(range(1, speakers + 1)) + [
        rng.randrange(1, speakers + 1) for _ in range(sessions - speakers)
    ]
    rng.shuffle(owners)
    popularity = [1.0 / (n + 1) ** 0.8 for n in range(sessions)]
    rng.shuffle(popularity)
    chosen = Counter()
    together = Counter()
    for _ in range(registrants):
        picks = set()
        for _ in range(rng.randint(4, 12)):
            picks.add(rng.choices(range(sessions), weights=popularity)[0] + 1)
        chosen.update(picks)
        together.update(itertools.combinations(sorted(picks), 2))
    items = tuple(
        Item(
            n + 1,
            rng.choice(TYPE_LENGTHS),
            speakers=(owners[n],),
            track=rng.randrange(6) + 1,
            audience=chosen[n + 1],
        )
        for n in range(sessions)
    )
    return Problem(
        days=windows, rooms=room_list, items=items, step=15, blocks=blocks,
        together=dict(together),
    )  # fmt: skip
