"""Reads that the rules and the pages share."""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Expression,
    F,
    Func,
    IntegerField,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import IContains
from django.utils import timezone

from sessions_app.enums import HOLDING_STATUSES, MemberRole, SessionStatus
from sessions_app.models import (
    Membership,
    Reviewer,
    Selection,
    SelectionState,
    Session,
    SessionChange,
    SessionSpeaker,
)
from sessions_app.models.clashes import (  # noqa: F401  (offered with the other reads)
    MAX_SESSION_LENGTH,
    SUMMARY_FIELDS,
    conflict_summary,
    overlap,
    overlap_condition,
)
from sessions_app.models.sessions import (  # noqa: F401
    session_conflicts,
    sessions_overlapping,
    speaker_conflicts,
)


def one_or_none(queryset: QuerySet) -> Any:
    """The one row of a lookup by a unique key, or None.

    ``first()`` orders by the primary key (or the model's ordering) for a single row: SQL
    that costs compiling, and sorting, on every request. ``get()`` drops the ordering.
    """
    try:
        return queryset.get()
    except queryset.model.DoesNotExist:
        return None


def rows_of_page(queryset: QuerySet, page: QuerySet, *, unindexed_order: bool = False) -> QuerySet:
    """``page``, a slice of ``queryset``, read by the ids the slice picks once it is past the
    first page, or on every page if the order has no index (``unindexed_order``):
    ``queryset``'s rows whose id is in the slice, in its order.

    In one query, PostgreSQL reads every row an OFFSET skips in full, with its joins and its
    annotations (the admin's clash flag is a subquery per row): at 100,000 sessions the
    query of the admin's last page took 0.77 s, and the API's page 4,000 75 ms. Picking the
    ids first reads the skipped rows only as far as the filters and the order need (15 ms,
    and 25 to 35 ms). An order that no index gives sorts every row first, and sorting the
    ids with their sort keys rather than whole joined rows took 20 to 40 ms against 125 to
    135 ms (the admin sorted by event, room or capacity). Else the first page is the plain
    slice: there is nothing to skip.
    """
    if not page.query.low_mark and not unindexed_order:
        return page
    return queryset.filter(pk__in=page.values("pk"))


class AfterFilter(Func):
    """A sort key that PostgreSQL applies to the rows the filters chose, instead of reading
    the rows in the key's order from its index and filtering them as they come.

    Reading an index in order stops after one page of matches, which is quick when the
    matches are spread through the index, as PostgreSQL assumes they are. The sessions of
    one event, track or room are not spread: they lie together in every order that follows
    the calendar (``date``, ``created_at``, ``updated_at``, ``id``, and often ``start_time``).
    At 100,000 sessions, a page of the last event's sessions sorted by date read the 90,000
    sessions of the other events first (30 to 45 ms, and ten times that at a million).
    Sorting the group's own sessions costs what the group's size costs, whatever the size
    of the organisation. ``COALESCE`` of one value is that value, and no index is on it.
    SQLite gets the plain key (its COALESCE wants two values).
    """

    function = "COALESCE"

    def as_sqlite(self, compiler, connection, **extra_context):
        return compiler.compile(self.get_source_expressions()[0])


def sorted_after_filter(order: list[OrderBy]) -> list[OrderBy]:
    """``order``, each key sorted after the filters (``AfterFilter``)."""
    return [
        OrderBy(
            AfterFilter(key.expression),
            descending=key.descending,
            nulls_first=key.nulls_first,
            nulls_last=key.nulls_last,
        )
        for key in order
    ]


SEPARATOR = "\x1f"  # U+001F, the unit separator: what SearchedText puts between fields


class SearchedText(Func):
    """What a session search looks in: name, short name, badge name and description as one
    text, each pair parted by the unit separator (U+001F), so that no match spans two.

    On PostgreSQL the trigram index ``session_search_text_trgm`` (migration 0018) is on
    ``UPPER()`` of exactly this SQL, which is what ``icontains`` makes of it: one index
    scan and one recheck per row, not one of each per column. The separator is written
    into the SQL, not bound: a prepared statement's generic plan matches the query with the
    index by expression, and a parameter is not the constant the index holds.
    """

    template = "(%(expressions)s)"
    arg_joiner = " || CHR(31) || "
    output_field = TextField()
    FIELDS = ("name", "admin_short_name", "badge_name", "description")

    def __init__(self) -> None:
        super().__init__(*(F(name) for name in self.FIELDS))

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, arg_joiner=" || char(31) || ", **extra_context)


class RegistrantSearchedText(SearchedText):
    """A registrant's searched text: first name, last name and email (the index of
    migration 0023, ``registrant_search_text_trgm``, is on its ``UPPER()``)."""

    FIELDS = ("first_name", "last_name", "email")


def text_search(term: str, searched: type[SearchedText] = SearchedText) -> Q:
    """Rows (sessions, unless ``searched`` says otherwise) with ``term`` in their searched
    text, case-insensitively. A term with the fields' separator in it matches nothing: it
    would match across two fields."""
    if SEPARATOR in term:
        return Q(pk__in=[])
    return Q(IContains(searched(), term))


def selection_conflicts(
    *, registrant_id: int, session: Any, exclude_session_id: int | None = None
) -> list[dict[str, Any]]:
    """Sessions the registrant holds or waits for that overlap ``session`` and may not: one
    of the two has ``prevent_session_conflicts``. As ``conflict_summary`` names them. An
    interest holds nothing, so it conflicts with nothing."""
    if session.starts_at is None or session.ends_at is None:
        return []
    others = Session.objects.filter(
        overlap_condition(starts_at=session.starts_at, ends_at=session.ends_at),
        selections__registrant_id=registrant_id,
        selections__state__in=_HOLDING,
    ).exclude(pk=exclude_session_id or session.pk)
    if not session.prevent_session_conflicts:
        others = others.filter(prevent_session_conflicts=True)
    return [
        conflict_summary(other)
        for other in others.select_related("event").only(*SUMMARY_FIELDS).order_by("starts_at")
    ]


def registrants_in_conflict(*, session: Any, registrant_ids: list[int]) -> set[int]:
    """Of ``registrant_ids``, those for whom ``selection_conflicts`` would name a session:
    the same rule for many registrants at once, in one query."""
    if session.starts_at is None or session.ends_at is None:
        return set()
    others = Selection.objects.filter(
        overlap_condition(starts_at=session.starts_at, ends_at=session.ends_at, prefix="session__"),
        registrant_id__in=registrant_ids,
        state__in=_HOLDING,
    ).exclude(session_id=session.pk)
    if not session.prevent_session_conflicts:
        others = others.filter(session__prevent_session_conflicts=True)
    return set(others.values_list("registrant_id", flat=True))


# The selections that hold something: a seat, or a place on the waitlist.
_HOLDING = (SelectionState.SELECTED, SelectionState.WAITLISTED)


def overlapping_selected_pairs(*, registrant_id: int) -> dict[int, list[Any]]:
    """``{session id: [overlapping sessions]}`` among the registrant's selections (any flag):
    what a reschedule may have made overlap, for the registrant's page to point out."""
    held = list(
        Session.objects.filter(selections__registrant_id=registrant_id, starts_at__isnull=False)
        .only("id", "name", "starts_at", "ends_at", "prevent_session_conflicts")
        .order_by("starts_at", "id")
    )
    overlaps: dict[int, list[Any]] = {}
    for index, session in enumerate(held):
        for other in held[index + 1 :]:
            if other.starts_at >= session.ends_at:
                break
            overlaps.setdefault(session.pk, []).append(other)
            overlaps.setdefault(other.pk, []).append(session)
    return overlaps


def holders_clashing_in_locations(*, location_ids: list[int]) -> list[tuple[Any, Any]]:
    """Pairs of holding sessions that overlap within the given locations (one query)."""
    holders = (
        Session.objects.filter(
            location_id__in=location_ids,
            session_status__in=HOLDING_STATUSES,
            starts_at__isnull=False,
        )
        .select_related("event")
        .only(*SUMMARY_FIELDS)
        .order_by("location_id", "starts_at", "id")
    )
    return _overlapping(holders, group=lambda s: s.location_id, slot=lambda s: s)


def _overlapping(items, *, group, slot) -> list[tuple[Any, Any]]:
    """Pairs of ``items`` in one ``group`` whose ``slot`` (an object with ``starts_at`` and
    ``ends_at``) overlap, from items ordered by group and then start: each is compared with
    the one of its group reaching furthest so far, so every item that overlaps is named."""
    pairs = []
    latest = None
    for item in items:
        if latest is not None and group(latest) == group(item):
            if slot(item).starts_at < slot(latest).ends_at:
                pairs.append((latest, item))
            if slot(item).ends_at > slot(latest).ends_at:
                latest = item
        else:
            latest = item
    return pairs


def speakers_clashing(*, speaker_ids: list[int]) -> list[tuple[Any, Any, Any]]:
    """``(session, session, speaker)`` for each two held, scheduled sessions of one of
    ``speaker_ids`` that overlap (one query): where a speaker would be in two places."""
    links = (
        SessionSpeaker.objects.filter(
            speaker_id__in=speaker_ids,
            session__session_status__in=HOLDING_STATUSES,
            session__starts_at__isnull=False,
        )
        .select_related("session__event", "speaker")
        .order_by("speaker_id", "session__starts_at", "session_id")
    )
    pairs = _overlapping(links, group=lambda link: link.speaker_id, slot=lambda link: link.session)
    return [(first.session, second.session, second.speaker) for first, second in pairs]


def agenda_sessions(event: Any) -> QuerySet:
    """``event``'s live sessions as attendees see them, in time order, with what the page
    shows. Each knows its event (read through ``event.sessions``): their times are shown in
    its zone, and reading it per session had cost the calendar feed a query per session."""
    return (
        event.sessions.filter(session_status=SessionStatus.LIVE)
        .select_related("location", "track")
        .prefetch_related(_speaker_links())
        .order_by("starts_at", "location__name", "id")
    )


def _speaker_links() -> Prefetch:
    """A session's speakers in billing order, read with it."""
    return Prefetch(
        "speaker_links",
        queryset=SessionSpeaker.objects.select_related("speaker").order_by("position"),
    )


def proposed_sessions(event: Any) -> QuerySet:
    """``event``'s proposed programme: approved sessions that are not on the agenda yet, by
    track and name, with what their list shows (registrants may mark interest in them)."""
    return (
        event.sessions.filter(session_status=SessionStatus.APPROVED)
        .select_related("track", "session_type")
        .prefetch_related(_speaker_links())
        .order_by(F("track__name").asc(nulls_last=True), "name", "id")
    )


class RowText(Expression):
    """A whole row of ``model`` as one text that changes with any of its columns: each
    column cast to text after its length, "-" for NULL. Written as SQL, not composed of
    ORM expressions: compiling those for every column had cost more than the query."""

    output_field = TextField()

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def as_sql(self, compiler, connection):
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = [f"{table}.{quote(field.column)}" for field in self.model._meta.concrete_fields]
        text = [
            f"COALESCE(LENGTH(CAST({c} AS TEXT)) || ':' || CAST({c} AS TEXT), '-')" for c in columns
        ]
        return " || ',' || ".join(text), []


def rows_digest(*querysets: QuerySet) -> str:
    """A digest of every row of ``querysets``, whole (every column, so that a column added
    later counts too), in one query: it changes whenever any of them changes, whichever
    door the change came through."""
    import hashlib

    rows = [
        queryset.order_by()
        .annotate(part=Value(n), row=RowText(queryset.model))
        .values_list("part", "pk", "row")
        for n, queryset in enumerate(querysets)
    ]
    digest = hashlib.blake2b(digest_size=16)
    for row in rows[0].union(*rows[1:], all=True).order_by("part", "pk"):
        digest.update(f"{row[0]}\x1d{row[1]}\x1d{row[2]}\x1d".encode())
    return digest.hexdigest()


def with_waitlist_position(selections: QuerySet) -> QuerySet:
    """Annotate ``waitlist_position`` (1 = next to be seated; None for a seat): how many
    wait before each one in its session, first come first served, in one query."""
    waiting = SelectionState.WAITLISTED
    ahead = (
        Selection.objects.filter(session_id=OuterRef("session_id"), state=waiting)
        .filter(
            Q(saved_at__lt=OuterRef("saved_at"))
            | Q(saved_at=OuterRef("saved_at"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values("session_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return selections.annotate(
        waitlist_position=Case(
            When(state=waiting, then=Coalesce(Subquery(ahead), 0) + 1),
            default=None,
            output_field=IntegerField(),
        )
    )


# --- The history as an outbox: how far a reader may go ------------------------------------
# History ids are handed out when a row is inserted, not when it commits, so on PostgreSQL a
# row may become visible after a higher one. Readers that follow the history in id order (the
# webhooks' outbox, the live agenda's streams) stop before a missing id that may still commit.

SETTLED_BATCH = 500


def settled_through(cursor: int, rows: Iterable[tuple[int, dt.datetime]], now: dt.datetime) -> int:
    """How far a reader of the history that has every row up to ``cursor`` may move, given
    the ``(id, created_at)`` of the rows after it in id order: up to the first missing id
    that may still commit. A missing id is given up once a row after it is
    ``GAP_GRACE_SECONDS`` old (its write took longer than that, or was rolled back)."""
    grace = dt.timedelta(seconds=settings.WEBHOOKS["GAP_GRACE_SECONDS"])
    settled = cursor
    for row_id, created_at in rows:
        if row_id != settled + 1 and created_at > now - grace:
            break
        settled = row_id
    return settled


def _grace_start(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(seconds=settings.WEBHOOKS["GAP_GRACE_SECONDS"])


def _older(old: dt.datetime):
    """The changes made before ``old``, newest first."""
    return SessionChange.objects.filter(created_at__lt=old).order_by("-created_at")


def newest_settled_id(now: dt.datetime) -> int | None:
    """The id of the newest change older than ``GAP_GRACE_SECONDS``: every id before it was
    handed out longer ago, so it has committed or never will."""
    return _older(_grace_start(now)).values_list("id", flat=True).first()


def settled_now() -> int:
    """The history's id up to which nothing more can appear now: after every change
    committed so far, before any that may still commit (1 query: the newest row older
    than the grace, before which every id is settled, and the rows after it; a database
    with no row that old yet starts at its first row)."""
    now = timezone.now()
    old = _grace_start(now)
    rows = list(
        SessionChange.objects.filter(id__gte=Coalesce(Subquery(_older(old).values("id")[:1]), 0))
        .order_by("id")
        .values_list("id", "created_at")[:SETTLED_BATCH]
    )
    if not rows:
        return 0
    if rows[0][1] < old:
        return settled_through(rows[0][0], rows[1:], now)
    return settled_through(rows[0][0] - 1, rows, now)


# --- blind review ----------------------------------------------------------------------


def blind_event_ids(user) -> set[int]:
    """The events whose speakers are hidden from this user: those where they sit on the
    programme committee as a blind reviewer, or the event's reviews are blind, and they do
    not organise the event. Every page, list, export and history a reviewer can reach
    leaves the speakers of these events out."""
    if user is None or not user.is_authenticated or user.is_superuser:
        return set()
    organised = Membership.objects.filter(user=user, role=MemberRole.ORGANISER).values(
        "organisation_id"
    )
    return set(
        Reviewer.objects.filter(user=user)
        .filter(Q(blind=True) | Q(event__review_settings__blind=True))
        .exclude(event__organisation_id__in=organised)
        .values_list("event_id", flat=True)
    )


def is_blind(user, event_id: int) -> bool:
    return event_id in blind_event_ids(user)
