"""The agenda's filters, session pages and feeds (.ics, schedule.json, schedule.xml), with
ETags and 304."""

import datetime as dt
import json
import uuid
import zoneinfo
from pathlib import Path

import icalendar
import jsonschema
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import etree

from sessions_app import services
from sessions_app.models import Session, Speaker
from tests import factories as f

pytestmark = pytest.mark.django_db
SCHEMA = json.loads((Path(__file__).parent / "data" / "c3voc-schedule-schema.json").read_text())
XML_SCHEMA = etree.XMLSchema(etree.parse(Path(__file__).parent / "data" / "c3voc-schedule.xml.xsd"))


@pytest.fixture
def world():
    organisation = f.organisation(slug="acme")
    event = f.event(organisation=organisation, slug="summit-2030", timezone="Europe/Berlin")
    hall, lab = f.location(event=event, name="Hall"), f.location(event=event, name="Lab")
    track = f.track(event=event, name="Engineering", color="#16a34a")
    keynote = f.live(event=event, name="Keynote", location=hall, track=track, description="Hi")
    workshop = f.live(
        event=event,
        name="Workshop: Django",
        location=lab,
        day=1,
        start="14:00",
        end="15:30",
        use_event_timezone=False,
        timezone="Europe/London",
    )
    hidden = f.scheduled(event=event, name="Approved, not live", session_status="approved")
    ada = services.speaker_create(
        event_id=event.pk,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.org",
            "bio": "Notes.",
        },
    )
    services.session_update(
        session_id=keynote.pk, data={"speaker_ids": [ada.pk]}, actor=services.SYSTEM
    )
    keynote.refresh_from_db()
    return {
        "ada": ada,
        "event": event,
        "keynote": keynote,
        "workshop": workshop,
        "hidden": hidden,
        "track": track,
        "base": "/agenda/acme/summit-2030",
    }


def test_ics_parses_and_holds_the_live_sessions_with_their_instants(client, world):
    response = client.get(world["base"] + ".ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    entries = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(entries) == {"Keynote", "Workshop: Django"}
    keynote = entries["Keynote"]
    assert keynote.decoded("dtstart") == world["keynote"].starts_at
    assert keynote.decoded("dtstart").tzinfo.key == "Europe/Berlin"
    assert keynote.decoded("dtend") == world["keynote"].ends_at
    assert str(keynote["location"]) == "Hall"
    assert str(keynote["description"]) == "Ada Lovelace\n\nHi"
    assert int(keynote["sequence"]) == world["keynote"].version
    workshop = entries["Workshop: Django"]
    assert workshop.decoded("dtstart") == world["workshop"].starts_at
    assert workshop.decoded("dtstart").tzinfo.key == "Europe/London"  # the session's own zone
    assert {str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")} == {
        "Europe/Berlin",
        "Europe/London",
    }
    assert str(keynote["url"]).endswith(f"/agenda/acme/summit-2030/sessions/{world['keynote'].pk}/")


def test_ics_uid_is_stable_and_sequence_grows_with_the_version(client, world):
    def keynote_entry():
        calendar = icalendar.Calendar.from_ical(client.get(world["base"] + ".ics").content)
        return next(e for e in calendar.walk("VEVENT") if "Keynote" in str(e["summary"]))

    before = keynote_entry()
    services.session_update(
        session_id=world["keynote"].pk,
        data={"start_time": dt.time(11), "end_time": dt.time(12), "name": "Keynote (moved)"},
        actor=services.SYSTEM,
    )
    after = keynote_entry()

    assert after["uid"] == before["uid"]
    assert int(after["sequence"]) == int(before["sequence"]) + 1
    assert after.decoded("dtstart").hour == 11


def test_ics_entry_is_modified_when_its_speaker_is_renamed(client, world):
    def keynote_entry():
        calendar = icalendar.Calendar.from_ical(client.get(world["base"] + ".ics").content)
        return next(e for e in calendar.walk("VEVENT") if "Keynote" in str(e["summary"]))

    an_hour_ago = (timezone.now() - dt.timedelta(hours=1)).replace(microsecond=0)
    Session.objects.filter(pk=world["keynote"].pk).update(updated_at=an_hour_ago)
    Speaker.objects.filter(pk=world["ada"].pk).update(updated_at=an_hour_ago)
    before = keynote_entry()
    assert before.decoded("last-modified") == an_hour_ago
    ada = services.speaker_update(speaker_id=world["ada"].pk, data={"last_name": "King"})
    after = keynote_entry()

    assert str(after["description"]).startswith("Ada King")
    renamed = ada.updated_at.replace(microsecond=0)  # iCalendar keeps whole seconds
    assert after.decoded("last-modified") == after.decoded("dtstamp") == renamed
    assert (after["uid"], after["sequence"]) == (before["uid"], before["sequence"])


@pytest.mark.parametrize("suffix", [".ics", "/schedule.json", "/"])
def test_a_feeds_queries_do_not_grow_with_its_sessions(client, world, suffix):
    """Each session knows its event (its times are in the event's zone): not a query each."""
    url = world["base"] + suffix
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    few = len(queries)  # the next request empties the log
    for i in range(20):
        session = f.live(event=world["event"], name=f"More {i}", day=2, start="09:00", end="09:30")
        session.speakers.add(world["ada"], through_defaults={"position": 0})

    with CaptureQueriesContext(connection) as many:
        body = client.get(url).content.decode()

    assert body.count("More 19") == 1
    assert len(many) == few <= 14  # built and kept (tests/test_agenda.py counts them)


def test_schedule_json_validates_against_the_published_schema(client, world):
    response = client.get(world["base"] + "/schedule.json")

    assert response.status_code == 200
    document = response.json()
    jsonschema.Draft6Validator(SCHEMA).validate(document)
    conference = document["schedule"]["conference"]
    assert (conference["acronym"], conference["time_zone_name"]) == ("summit_2030", "Europe/Berlin")
    assert conference["daysCount"] == 3
    assert [room["name"] for room in conference["rooms"]] == ["Hall", "Lab"]
    first_day, second_day = conference["days"][0], conference["days"][1]
    (keynote,) = first_day["rooms"]["Hall"]
    assert keynote["title"] == "Keynote"
    assert (keynote["start"], keynote["duration"]) == ("10:00", "01:00")
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    assert keynote["date"] == world["keynote"].starts_at.astimezone(berlin).isoformat()
    assert keynote["track"] == "Engineering"
    uuid.UUID(keynote["guid"])
    assert keynote["persons"] == [
        {
            "code": f"SP{world['ada'].pk}",
            "name": "Ada Lovelace",
            "guid": str(uuid.uuid5(uuid.NAMESPACE_URL, "acct:ada@example.org")),
            "biography": "Notes.",
        }
    ]
    (workshop,) = second_day["rooms"]["Lab"]
    assert (workshop["start"], workshop["duration"]) == ("15:00", "01:30")  # Berlin time
    titles = [
        e["title"] for day in conference["days"] for room in day["rooms"].values() for e in room
    ]
    assert "Approved, not live" not in titles


@pytest.mark.parametrize("suffix", [".ics", "/schedule.json", "/", "/sessions/{keynote}/"])
def test_etag_and_304_then_a_change_gives_a_new_body(client, world, suffix):
    url = world["base"] + suffix.format(keynote=world["keynote"].pk)
    first = client.get(url)
    etag = first["ETag"]

    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    services.session_update(
        session_id=world["keynote"].pk, data={"name": "Renamed keynote"}, actor=services.SYSTEM
    )
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert first.status_code == 200
    assert set(first["Cache-Control"].split(", ")) == {
        "public",
        "max-age=5",
        "stale-while-revalidate=30",
    }
    assert (again.status_code, again.content) == (304, b"")
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert "Renamed keynote" in changed.content.decode()


@pytest.mark.parametrize("suffix", [".ics", "/schedule.json", "/"])
def test_a_kept_body_is_the_one_built_until_what_it_is_made_of_changes(client, world, suffix):
    url = world["base"] + suffix
    built = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        kept = client.get(url)
    building = [
        query["sql"]  # the speakers of the sessions, read to build (the digest reads them too)
        for query in queries
        if '"sessions_app_sessionspeaker"' in query["sql"] and "UNION" not in query["sql"]
    ]

    assert (kept.content, kept["Content-Type"]) == (built.content, built["Content-Type"])
    assert kept["ETag"] == built["ETag"]
    assert building == []
    other_host = client.get(url, HTTP_HOST="agenda.example.org")
    assert other_host["ETag"] != built["ETag"]
    if suffix != "/":  # the page's links are relative; the feeds' name the host asked
        assert b"agenda.example.org" in other_host.content
    for change in (
        lambda: Speaker.objects.filter(pk=world["ada"].pk).update(first_name="Augusta"),
        lambda: world["keynote"].location.__class__.objects.update(name="Great Hall"),
        lambda: Session.objects.filter(pk=world["hidden"].pk).update(session_status="live"),
    ):
        before = client.get(url)
        change()  # straight to the database: no service, no history row
        after = client.get(url)
        assert after.content != before.content
        assert after["ETag"] != before["ETag"]


def test_a_body_read_while_its_event_changed_is_not_kept_under_the_newer_version(
    client, world, monkeypatch
):
    """A change committed while the calendar is built is in the body, kept under the version
    read before; the change's own version is a new key, and undoing the change is another:
    the old state never comes back under a key that names a newer one."""
    from sessions_app.public import feeds

    keynote = Session.objects.filter(pk=world["keynote"].pk)
    build = feeds.event_calendar
    url = world["base"] + ".ics"

    def changed_meanwhile(*args, **kwargs):
        keynote.update(name="Changed meanwhile")  # straight to the table
        return build(*args, **kwargs)

    monkeypatch.setattr(feeds, "event_calendar", changed_meanwhile)
    first = client.get(url)
    monkeypatch.setattr(feeds, "event_calendar", build)
    after_change = client.get(url)
    keynote.update(name="Keynote")  # undone
    undone = client.get(url)

    assert b"Changed meanwhile" in first.content
    assert b"Changed meanwhile" in after_change.content
    assert len({first["ETag"], after_change["ETag"], undone["ETag"]}) == 3
    assert b"SUMMARY:Keynote" in undone.content


def test_without_its_cache_the_agenda_is_built_as_before(
    client, world, settings, unreachable_redis
):
    """A Redis that is not there (a socket nobody listens on): the feed is built."""
    from django.core.cache import caches

    settings.CACHES = {**settings.CACHES, "agenda": unreachable_redis}
    try:
        response = client.get(world["base"] + ".ics")
    finally:
        caches["agenda"].close()
    assert response.status_code == 200
    assert b"SUMMARY:Keynote" in response.content


def _tables_with_agenda_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger "
                "WHERE tgname = 'agenda_version' AND tgdeferrable AND tginitdeferred"
            )
        else:
            cursor.execute(
                "SELECT DISTINCT tbl_name FROM sqlite_master "
                "WHERE type = 'trigger' AND name LIKE 'agenda_version_%'"
            )
        return {row[0] for row in cursor.fetchall()}


def test_every_table_the_agenda_reads_bumps_its_version(client, world):
    """A page or feed that read a table without a version trigger would be kept, and
    answered 304, while that table changed."""
    import re

    from django.core.cache import caches

    from sessions_app.public.agenda import local_bodies

    def tables(queries) -> set[str]:
        return {
            table
            for query in queries
            for table in re.findall(r'(?:FROM|JOIN) "(\w+)"', query["sql"])
        }

    watched = _tables_with_agenda_triggers()
    assert {"sessions_app_speaker", "sessions_app_session", "sessions_app_event"} <= watched
    for suffix in (
        ".ics",
        "/schedule.json",
        "/",
        "/?day=2030-06-11&track=1&q=key",
        f"/sessions/{world['keynote'].pk}/",
    ):
        caches["agenda"].clear()
        local_bodies.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(world["base"] + suffix).status_code == 200
        # The version itself, the kept bodies, and the stream's start (the history: a part
        # of what the page links to, not of what it shows).
        read = tables(queries) - {
            "sessions_app_agendaversion",
            "agenda_cache",
            "sessions_app_sessionchange",
        }
        assert read <= watched


@pytest.mark.parametrize("suffix", [".ics", "/schedule.json", "/", "/sessions/{keynote}/"])
def test_a_client_that_has_the_page_is_answered_after_one_query(client, world, suffix):
    """The freshness check reads the event with its version, whatever the event holds."""
    for n in range(30):
        f.live(event=world["event"], name=f"More {n}")
    url = world["base"] + suffix.format(keynote=world["keynote"].pk)
    etag = client.get(url)["ETag"]

    with CaptureQueriesContext(connection) as queries:
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    with CaptureQueriesContext(connection) as kept:
        body = client.get(url)

    assert again.status_code == 304
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert body.status_code == 200 and len(kept) == 1  # the body from this process's memory


def test_session_page_shows_a_live_session_and_404s_for_others(client, world):
    page = client.get(f"{world['base']}/sessions/{world['keynote'].pk}/")
    hidden = client.get(f"{world['base']}/sessions/{world['hidden'].pk}/")
    elsewhere = f.live(event=f.event())
    other = client.get(f"{world['base']}/sessions/{elsewhere.pk}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Keynote" in html and "Hall" in html
    assert "<h3>Ada Lovelace</h3>" in html and "<p>Notes.</p>" in html
    agenda = client.get(world["base"] + "/").content.decode()
    assert '<span class="speaker">Ada Lovelace</span>' in agenda
    assert (hidden.status_code, other.status_code) == (404, 404)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"keynote", "workshop"}),
        ({"day": "2030-06-11"}, {"workshop"}),
        ({"track": "TRACK"}, {"keynote"}),
        ({"q": "django"}, {"workshop"}),
        ({"day": "not-a-day", "track": "x"}, {"keynote", "workshop"}),
    ],
    ids=["all", "day", "track", "search", "malformed"],
)
def test_agenda_filters_by_day_track_and_search(client, world, params, expected):
    params = {k: str(world["track"].pk) if v == "TRACK" else v for k, v in params.items()}

    html = client.get(world["base"] + "/", params).content.decode()

    shown = {
        name for name in ("keynote", "workshop") if f'data-session-id="{world[name].pk}"' in html
    }
    assert shown == expected


def _valid_xml(content: bytes):
    document = etree.fromstring(content)
    XML_SCHEMA.assertValid(document)
    return document


def test_schedule_xml_validates_against_the_published_schema_and_says_what_the_json_says(
    client, world
):
    response = client.get(world["base"] + "/schedule.xml")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    document = _valid_xml(response.content)
    as_json = client.get(world["base"] + "/schedule.json").json()["schedule"]
    assert document.findtext("version") == as_json["version"]
    assert document.findtext("conference/acronym") == "summit_2030"
    assert document.findtext("conference/time_zone_name") == "Europe/Berlin"
    events = document.findall("day/room/event")
    assert [e.findtext("title") for e in events] == ["Keynote", "Workshop: Django"]
    keynote = events[0]
    assert keynote.get("id") == str(world["keynote"].pk)
    assert (keynote.findtext("start"), keynote.findtext("duration")) == ("10:00", "01:00")
    assert keynote.findtext("room") == "Hall" and keynote.findtext("track") == "Engineering"
    assert [p.text for p in keynote.findall("persons/person")] == ["Ada Lovelace"]
    assert keynote.find("persons/person").get("id") == str(world["ada"].pk)
    json_keynote = as_json["conference"]["days"][0]["rooms"]["Hall"][0]
    assert keynote.get("guid") == json_keynote["guid"]
    assert keynote.findtext("date") == json_keynote["date"]


def test_schedule_xml_is_linked_and_answers_304(client, world):
    page = client.get(world["base"] + "/").content.decode()
    assert f'href="{world["base"]}/schedule.xml"' in page
    first = client.get(world["base"] + "/schedule.xml")
    again = client.get(world["base"] + "/schedule.xml", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert first["ETag"] != client.get(world["base"] + "/schedule.json")["ETag"]


def test_schedule_xml_holds_every_kind_of_session_validly(client):
    event = f.event(organisation=f.organisation(slug="xml"), slug="every", timezone="Asia/Tokyo")
    room = f.location(event=event, name="Salle Lumière")
    f.live(event=event, name="Keynote: Grüße aus Köln", location=room, description="<b>&amp;")
    f.live(event=event, name="مرحبا بالعالم", start="12:00", end="12:20")  # no room
    f.live(event=event, name="東京セッション", day=2, start="23:00", end="23:59", location=room)
    f.session(event=event, name="Not timed yet", session_status="live")  # no time: left out
    panel = f.live(event=event, name="Panel", location=room, start="14:00", end="15:00")
    speakers = [
        services.speaker_create(event_id=event.pk, data={"first_name": name, "email": ""})
        for name in ["Zoë", "Åsa", "Łukasz"]
    ]
    services.session_update(
        session_id=panel.pk,
        data={
            "speaker_ids": [s.pk for s in speakers],
            "webinar_url": "https://x.example/j?a=1&b=2",
        },
        actor=services.SYSTEM,
    )

    document = _valid_xml(client.get("/agenda/xml/every/schedule.xml").content)

    titles = [e.findtext("title") for e in document.findall("day/room/event")]
    assert sorted(titles) == sorted(
        ["Keynote: Grüße aus Köln", "مرحبا بالعالم", "東京セッション", "Panel"]
    )
    rooms = {r.get("name") for r in document.findall("day/room")}
    assert rooms == {"Salle Lumière", "No room"}
    panel_xml = next(
        e for e in document.findall("day/room/event") if e.findtext("title") == "Panel"
    )
    assert [p.text for p in panel_xml.findall("persons/person")] == ["Zoë", "Åsa", "Łukasz"]
    assert panel_xml.find("links/link").get("href") == "https://x.example/j?a=1&b=2"
    assert document.find("day/room/event/description") is not None
