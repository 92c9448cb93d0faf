"""The schedule grid of one event day: locations as columns, time as rows.

Everything is computed from three queries (the day's sessions, their speakers, the event's
locations). Sessions that overlap in one location get side-by-side lanes, so a submitted
proposal that clashes with a held slot is visible next to it and flagged; so is a speaker
due in two places at once.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch

from sessions_app.admin.display import text_colour_for
from sessions_app.enums import HOLDING_STATUSES, SessionStatus
from sessions_app.models import Event, Location, Session, SessionSpeaker

SLOT_MINUTES = 5
DEFAULT_HOURS = (9, 17)
NO_TRACK_COLOUR = "#e5e7eb"


@dataclass
class Block:
    session: Session
    start: dt.datetime
    end: dt.datetime
    lane: int = 0
    column: int = 0
    row_start: int = 0
    row_end: int = 0
    clashes_with: list[Session] = field(default_factory=list)
    # (speaker's name, the other session) for each speaker who would be in two places.
    speaker_clashes: list[tuple[str, Session]] = field(default_factory=list)

    @property
    def time_label(self) -> str:
        # Formatted here: the template's time filter would convert to the server's zone.
        return f"{self.start:%H:%M}\u2013{self.end:%H:%M}"

    @property
    def background(self) -> str:
        return self.session.track.color if self.session.track else NO_TRACK_COLOUR

    @property
    def foreground(self) -> str:
        return text_colour_for(self.background)

    @property
    def holds(self) -> bool:
        return self.session.session_status in HOLDING_STATUSES

    @property
    def flagged(self) -> bool:
        return bool(self.clashes_with or self.speaker_clashes)

    @property
    def start_minutes(self) -> int:
        return self.start.hour * 60 + self.start.minute

    @property
    def end_minutes(self) -> int:
        return self.end.hour * 60 + self.end.minute

    @property
    def speaker_ids(self) -> str:
        return " ".join(str(pk) for pk in self.session.speaker_ids or [])

    @property
    def speaker_names(self) -> list[str]:
        return [link.speaker.full_name for link in self.session.speaker_links.all()]


@dataclass
class Column:
    location: Location | None
    first: int  # grid column where this location starts
    lanes: int
    blocks: list[Block] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.location.name if self.location else "No location"


@dataclass
class Grid:
    event: Event
    day: dt.date
    columns: list[Column]
    hours: list[tuple[int, str]]  # (grid row, "09:00")
    rows: int
    total_lanes: int
    blocks: list[Block]
    unplaced: list[Session]
    first_hour: int = DEFAULT_HOURS[0]

    slots_per_hour: int = 60 // SLOT_MINUTES
    slot_minutes: int = SLOT_MINUTES

    @property
    def flagged(self) -> list[Block]:
        return [block for block in self.blocks if block.flagged]

    @property
    def tracks(self) -> list:
        found = {b.session.track.pk: b.session.track for b in self.blocks if b.session.track}
        return sorted(found.values(), key=lambda track: track.name)


def day_sessions(event: Event, day: dt.date):
    """The event's sessions starting on ``day`` in the event's zone, rejected ones left out."""
    zone = zoneinfo.ZoneInfo(event.timezone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return (
        Session.objects.filter(
            event=event, starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=1)
        )
        .exclude(session_status=SessionStatus.REJECTED)
        .select_related("track", "location")
        .prefetch_related(
            Prefetch(
                "speaker_links",
                queryset=SessionSpeaker.objects.select_related("speaker").order_by("position"),
            )
        )
        .order_by("starts_at", "id")
    )


def _assign_lanes(blocks: list[Block]) -> int:
    """Greedy interval colouring: each block takes the first lane free at its start."""
    lane_ends: list[dt.datetime] = []
    for block in sorted(blocks, key=lambda b: (b.start, not b.holds, b.session.pk)):
        for lane, end in enumerate(lane_ends):
            if end <= block.start:
                block.lane = lane
                lane_ends[lane] = block.end
                break
        else:
            block.lane = len(lane_ends)
            lane_ends.append(block.end)
    return max(1, len(lane_ends))


def _flag_clashes(blocks: list[Block]) -> None:
    """A submitted session clashes when a holding one in its location overlaps it."""
    holders = [b for b in blocks if b.holds]
    for block in blocks:
        if block.session.session_status != SessionStatus.SUBMITTED:
            continue
        block.clashes_with = [
            h.session for h in holders if h.start < block.end and h.end > block.start
        ]


def _flag_speaker_clashes(blocks: list[Block]) -> None:
    """A speaker in two overlapping sessions of the day, one of which holds its time: the
    other is refused when it is approved, or (for data older than the rule) both are."""
    by_speaker: dict[int, list[tuple[Block, str]]] = defaultdict(list)
    for block in blocks:
        for link in block.session.speaker_links.all():
            by_speaker[link.speaker_id].append((block, link.speaker.full_name))
    for entries in by_speaker.values():
        for index, (first, name) in enumerate(entries):
            for second, _ in entries[index + 1 :]:
                meet = first.start < second.end and first.end > second.start
                if meet and (first.holds or second.holds):
                    first.speaker_clashes.append((name, second.session))
                    second.speaker_clashes.append((name, first.session))


def build_grid(*, event: Event, day: dt.date, sessions, locations, also=()) -> Grid:
    """``also``: more (start, end) times of the day the grid must show (a suggestion's)."""
    zone = zoneinfo.ZoneInfo(event.timezone)
    by_location: dict[int | None, list[Block]] = {loc.pk: [] for loc in locations}
    unplaced = []
    blocks = []
    for session in sessions:
        block = Block(
            session=session,
            start=session.starts_at.astimezone(zone),
            end=session.ends_at.astimezone(zone),
        )
        if block.end.date() != day:  # runs past midnight in the event's zone
            block.end = dt.datetime.combine(day, dt.time(23, 59), tzinfo=zone)
        key = session.location_id
        if key is not None and key not in by_location:
            unplaced.append(session)
            continue
        by_location.setdefault(key, []).append(block)
        blocks.append(block)

    first_hour, last_hour = DEFAULT_HOURS
    spans = [(b.start, b.end) for b in blocks] + list(also)
    if spans:
        first_hour = min(first_hour, min(start.hour for start, _ in spans))
        last_hour = max(last_hour, max(end.hour + (1 if end.minute else 0) for _, end in spans))
    last_hour = min(last_hour, 24)
    origin = dt.datetime.combine(day, dt.time(first_hour), tzinfo=zone)

    def row_of(moment: dt.datetime) -> int:
        minutes = (moment - origin).total_seconds() / 60
        return 2 + int(minutes // SLOT_MINUTES)  # row 1 is the header

    columns = []
    next_column = 2  # column 1 holds the times
    ordered = list(locations) + ([None] if by_location.get(None) else [])
    for location in ordered:
        key = location.pk if location else None
        column_blocks = by_location.get(key, [])
        _flag_clashes(column_blocks)
        lanes = _assign_lanes(column_blocks)
        for block in column_blocks:
            block.column = next_column + block.lane
            block.row_start = row_of(block.start)
            block.row_end = max(row_of(block.end), block.row_start + 1)
        columns.append(
            Column(location=location, first=next_column, lanes=lanes, blocks=column_blocks)
        )
        next_column += lanes

    _flag_speaker_clashes(blocks)
    slots_per_hour = 60 // SLOT_MINUTES
    hours = [
        (2 + (hour - first_hour) * slots_per_hour, f"{hour:02d}:00")
        for hour in range(first_hour, last_hour)
    ]
    return Grid(
        event=event,
        day=day,
        columns=columns,
        hours=hours,
        rows=(last_hour - first_hour) * slots_per_hour,
        total_lanes=next_column - 2,
        blocks=blocks,
        unplaced=unplaced,
        first_hour=first_hour,
    )


def event_days(event: Event) -> list[dt.date]:
    days = (event.end_date - event.start_date).days + 1
    return [event.start_date + dt.timedelta(days=i) for i in range(min(days, 62))]
