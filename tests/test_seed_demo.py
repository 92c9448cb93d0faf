from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory

from sessions_app import selectors, services
from sessions_app.enums import SessionStatus
from sessions_app.management.load_data import (
    SEARCH_INDEX,
    SLOTS_PER_EVENT,
    WORDS,
    _topics,
    add_load_sessions,
)
from sessions_app.models import CustomField, Event, Organisation, Session, SessionChange


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_complete():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = (Event.objects.count(), Session.objects.count(), SessionChange.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Event.objects.count(), Session.objects.count(), SessionChange.objects.count()) == first

    event = Event.objects.get(organisation__slug="demo")
    assert event.timezone != "UTC"
    assert (event.end_date - event.start_date).days == 2
    assert (event.tracks.count(), event.locations.count()) == (3, 4)
    assert event.locations.filter(capacity__isnull=False).count() == 1
    assert event.custom_fields.values("field_type").distinct().count() >= 5
    assert 25 <= event.sessions.count() <= 40
    statuses = set(event.sessions.values_list("session_status", flat=True))
    assert statuses == set(SessionStatus.values)
    # Every session was written through the services, so each has its history.
    assert not event.sessions.exclude(changes__action="session.create").exists()

    text = out.getvalue()
    for username, password in [
        ("admin", "admin-demo-pass"),
        ("organiser", "organiser-demo-pass"),
        ("reviewer", "reviewer-demo-pass"),
    ]:
        assert f"{username}" in text and password in text
        login = RequestFactory().post("/admin/login/")
        assert authenticate(login, username=username, password=password) is not None


@pytest.mark.django_db
def test_seed_demo_sessions_pass_every_rule():
    call_command("seed_demo", stdout=StringIO())
    for session in Session.objects.select_related("event"):
        session.full_clean()
    location_ids = list(Session.objects.values_list("location_id", flat=True).distinct())
    assert selectors.holders_clashing_in_locations(location_ids=location_ids) == []


@pytest.mark.django_db
def test_seed_demo_adds_load_sessions_in_bulk_that_pass_every_rule():
    out = StringIO()
    call_command("seed_demo", sessions=300, stdout=out)
    load = Session.objects.filter(event__slug__startswith="load-")
    assert load.count() == 300
    assert load.values("event").distinct().count() == 10
    call_command("seed_demo", sessions=250, stdout=StringIO())  # more, in the next free slots
    assert load.count() == 550

    for session in load.select_related("event"):
        session.full_clean()
    location_ids = list(load.values_list("location_id", flat=True).distinct())
    assert len(location_ids) > 1
    assert selectors.holders_clashing_in_locations(location_ids=location_ids) == []
    assert set(load.values_list("session_status", flat=True)) >= {"approved", "live", "submitted"}
    # One session.create entry each, as the services write, and the ids line up.
    changes = SessionChange.objects.filter(session__in=load)
    assert changes.count() == 550
    assert set(changes.values_list("action", flat=True)) == {"session.create"}
    session = load.order_by("pk").last()
    assert session.changes.get().changes["name"] == {"old": None, "new": session.name}
    assert "Added 300 sessions in " in out.getvalue()
    assert "the load test events hold 300." in out.getvalue()


def _search_index_options() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [SEARCH_INDEX])
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db
def test_load_sessions_are_merged_into_the_search_index_which_keeps_its_options():
    """The load lets the trigram index collect its rows in a pending list: by the commit the
    list is merged and the index is ``fastupdate = off`` again, so no search reads a list."""
    call_command("seed_demo", sessions=300, stdout=StringIO())

    assert _search_index_options() == ["fastupdate=off"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [SEARCH_INDEX])
        assert cursor.fetchone() == (0,)  # no page was left in the pending list
        # And the index, read alone, finds the loaded sessions.
        cursor.execute("SET LOCAL enable_seqscan = off")
        found = Session.objects.filter(selectors.text_search("observability")).count()
    expected = sum(
        "observability" in " ".join(texts).lower()
        for texts in Session.objects.values_list(*selectors.SearchedText.FIELDS)
    )
    assert found == expected > 0


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_load_that_fails_leaves_the_search_index_options_as_they_were():
    organisation = Organisation.objects.create(name="Load", slug="load")

    with pytest.raises(ValueError, match="has room for"):
        add_load_sessions(organisation=organisation, count=10 * SLOTS_PER_EVENT + 10)

    assert _search_index_options() == ["fastupdate=off"]
    assert not Session.objects.exists()


@pytest.mark.parametrize("per_event", [100, 10_000])
def test_load_session_topics_give_each_word_the_same_share_at_any_size(per_event):
    """A word search finds about 2% of the sessions at 1,000 (100 an event) as at 100,000:
    the benchmark's search at the small size is the large one made smaller."""
    pairs = [_topics(slot).split() for slot in range(per_event)]
    words = Counter(word for pair in pairs for word in pair)

    assert all(first != second for first, second in pairs)
    assert len({tuple(pair) for pair in pairs}) == per_event  # no two sessions alike
    assert set(words) == set(WORDS)
    share = 2 * per_event / len(WORDS)  # two topics a session
    assert all(abs(n - share) <= 2 for n in words.values()), words.most_common(3)


@pytest.mark.django_db
def test_seed_demo_refuses_a_negative_count():
    with pytest.raises(CommandError, match="sessions"):
        call_command("seed_demo", sessions=-1, stdout=StringIO())


@pytest.mark.django_db
def test_seed_demo_registrants_show_every_selection_rule(client):
    from sessions_app.models import Registrant, Selection

    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())  # idempotent: nobody registered twice

    event = Event.objects.get(organisation__slug="demo")
    assert event.registrants.count() == 6
    sessions = {s.name: s for s in event.sessions.all()}
    full = sessions["Pricing experiments"]
    assert (full.seats_taken, full.capacity, full.waitlist_count) == (3, 3, 2)
    keynote = sessions["Opening keynote"]
    assert keynote.selection_control == "included" and keynote.seats_taken == 6
    assert sessions["Day two welcome"].locked_when_saved
    assert sessions["Final day kickoff"].selected_by_default
    assert sessions["Final day kickoff"].seats_taken == 6
    guarded = [s for s in sessions.values() if s.prevent_session_conflicts]
    assert len(guarded) == 2
    assert guarded[0].starts_at < guarded[1].ends_at and guarded[1].starts_at < guarded[0].ends_at
    assert Selection.objects.filter(session=full, state="waitlisted").count() == 2

    ada = Registrant.objects.get(event=event, email="ada@example.com")
    path = ada.get_selection_path()
    assert path in out.getvalue()
    page = client.get(path)
    assert page.status_code == 200
    assert "Join the waitlist" in page.content.decode()


@pytest.mark.django_db
def test_seed_demo_has_real_speakers_and_one_double_booked_proposal():
    call_command("seed_demo", stdout=StringIO())
    event = Event.objects.get(organisation__slug="demo")

    # The twelve of the programme, and three who proposed through the call.
    assert event.speakers.count() == 15
    assert not event.custom_fields.filter(label="Speaker").exists()
    roundtable = event.sessions.get(name="Community organisers roundtable")
    assert [s.full_name for s in roundtable.speakers.order_by("session_links__position")] == [
        "Kenji Watanabe",
        "Sofia Rossi",
    ]
    assert roundtable.speaker_ids == list(
        roundtable.speakers.order_by("session_links__position").values_list("pk", flat=True)
    )
    # The async ORM proposal double-books Priya: approving it is refused for her too.
    proposal = event.sessions.get(name="Clashing proposal: async ORM")
    with pytest.raises(ValidationError) as refused:
        services.session_set_status(
            session_id=proposal.pk, status="approved", actor=services.SYSTEM
        )
    assert "Priya Raman" in " ".join(refused.value.message_dict["speaker_ids"])


@pytest.mark.django_db
def test_seed_demo_moves_speaker_names_from_the_old_custom_field():
    call_command("seed_demo", stdout=StringIO())
    event = Event.objects.get(organisation__slug="demo")
    # Demo data as it was before speakers: names in a "Speaker" text field.
    field = CustomField.objects.create(event=event, label="Speaker", field_type="text")
    talk = event.sessions.get(name="Lightning talks")
    Session.objects.filter(pk=talk.pk).update(
        custom_fields={**talk.custom_fields, field.key: "Dana Scully"}
    )

    out = StringIO()
    call_command("seed_demo", stdout=out)

    talk.refresh_from_db()
    dana = event.speakers.get(first_name="Dana", last_name="Scully")
    assert talk.speaker_ids == [dana.pk]
    assert field.key not in talk.custom_fields
    assert not CustomField.objects.filter(pk=field.pk).exists()
    change = SessionChange.objects.filter(session_id=talk.pk).order_by("-id").first()
    assert change.changes["speaker_ids"] == {"old": [], "new": [dana.pk]}
    assert "Moved 1 speaker name(s)" in out.getvalue()


@pytest.mark.django_db
def test_seed_demo_has_an_open_call_with_two_types_and_proposals_from_speakers():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # again: nothing more
    event = Event.objects.get(organisation__slug="demo")

    call = event.call
    assert call.is_open()
    assert sorted(call.session_types.values_list("name", "default_minutes")) == [
        ("Talk", 30),
        ("Workshop", 90),
    ]
    proposals = event.sessions.filter(
        changes__action="session.create", changes__actor_label__endswith="@speakers.example.com"
    )
    assert sorted(proposals.values_list("name", "session_status", "duration_minutes")) == [
        ("Accessible forms by default", "withdrawn", 30),
        ("Offline-first agendas for bad Wi-Fi", "submitted", 30),
        ("Rust for Pythonistas, hands on", "submitted", 90),
    ]
