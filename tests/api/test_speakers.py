"""Speakers (``/api/v1/speakers``) and a session's ``speaker_ids``: CRUD, isolation, history,
and a speaker who cannot be in two places at once."""

import threading

import pytest
from django.db import connections
from django.test import Client

from sessions_app.models import Session, SessionChange, SessionSpeaker, Speaker
from tests import factories as f

pytestmark = pytest.mark.django_db


def speaker(event, first="Ada", last="Lovelace", **kw):
    return Speaker.objects.create(event=event, first_name=first, last_name=last, **kw)


def test_create_get_list_update_delete(api, event):
    response = api.post(
        "/api/v1/speakers",
        {
            "event_id": event.pk,
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace@example.org",
            "company": "Navy",
            "job_title": "Rear Admiral",
            "bio": "COBOL.",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    created = Speaker.objects.get()
    assert response["Location"] == f"http://testserver/api/v1/speakers/{created.pk}"
    assert body == {
        "id": created.pk,
        "event_id": event.pk,
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.org",
        "company": "Navy",
        "job_title": "Rear Admiral",
        "bio": "COBOL.",
        "session_ids": [],
        "availability": [],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert api.get(f"/api/v1/speakers/{created.pk}").json() == body
    assert api.get("/api/v1/speakers", {"event_id": event.pk}).json()["items"] == [body]
    assert api.get("/api/v1/speakers", {"search": "hopp"}).json()["_meta"]["totalCount"] == 1

    response = api.patch(f"/api/v1/speakers/{created.pk}", {"job_title": "Admiral"})
    assert response.status_code == 200
    assert response.json()["job_title"] == "Admiral"
    assert response.json()["first_name"] == "Grace"

    assert api.delete(f"/api/v1/speakers/{created.pk}").status_code == 204
    assert Speaker.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"first_name": ""}, "first_name", "blank"),
        ({"email": "not-an-email"}, "email", "invalid"),
        ({"first_name": 5}, "first_name", "invalid_type"),
        ({"twitter": "@ada"}, "twitter", "unknown_field"),
        ({"session_ids": [1]}, "session_ids", "read_only"),
        ({"bio": "x" * 10_001}, "bio", "max_length"),
    ],
    ids=["blank-name", "bad-email", "name-not-text", "unknown", "read-only", "long-bio"],
)
def test_invalid_speaker_input_is_422_and_changes_nothing(api, event, body, field, code):
    ada = speaker(event)

    response = api.patch(f"/api/v1/speakers/{ada.pk}", body)

    assert response.status_code == 422, response.content
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    ada.refresh_from_db()
    assert (ada.first_name, ada.email, ada.bio) == ("Ada", "", "")


def test_another_organisations_speakers_are_404(api, event):
    theirs = speaker(f.event())

    assert api.get("/api/v1/speakers").json()["items"] == []
    assert api.get(f"/api/v1/speakers/{theirs.pk}").status_code == 404
    assert api.patch(f"/api/v1/speakers/{theirs.pk}", {"first_name": "X"}).status_code == 404
    assert api.delete(f"/api/v1/speakers/{theirs.pk}").status_code == 404
    response = api.post("/api/v1/speakers", {"event_id": theirs.event_id, "first_name": "Y"})
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "event_id",
        "code": "does_not_exist",
        "message": "There is no event with this id.",
    }
    theirs.refresh_from_db()
    assert theirs.first_name == "Ada"


def test_a_reader_cannot_write_speakers(reader, event):
    response = reader.post("/api/v1/speakers", {"event_id": event.pk, "first_name": "Z"})

    assert response.status_code == 403
    assert Speaker.objects.count() == 0


# --- speaker_ids on the session -----------------------------------------------------------


def test_speaker_ids_are_set_in_order_and_recorded(api, event):
    ada, grace = speaker(event), speaker(event, "Grace", "Hopper")
    session = f.scheduled(event=event)

    response = api.patch(f"/api/v1/sessions/{session.pk}", {"speaker_ids": [grace.pk, ada.pk]})

    assert response.status_code == 200, response.content
    assert response.json()["speaker_ids"] == [grace.pk, ada.pk]
    assert response.json()["version"] == 2
    links = SessionSpeaker.objects.filter(session=session).order_by("position")
    assert [link.speaker_id for link in links] == [grace.pk, ada.pk]
    change = SessionChange.objects.get(session_id=session.pk)
    assert change.changes == {"speaker_ids": {"old": [], "new": [grace.pk, ada.pk]}}
    assert api.get(f"/api/v1/speakers/{ada.pk}").json()["session_ids"] == [session.pk]

    response = api.patch(f"/api/v1/sessions/{session.pk}", {"speaker_ids": [ada.pk]})
    assert response.json()["speaker_ids"] == [ada.pk]
    assert list(SessionSpeaker.objects.values_list("speaker_id", flat=True)) == [ada.pk]
    assert api.get(f"/api/v1/speakers/{grace.pk}").json()["session_ids"] == []


def test_a_session_is_created_with_its_speakers(api, event):
    ada = speaker(event)

    response = api.post(
        "/api/v1/sessions", {"event_id": event.pk, "name": "Keynote", "speaker_ids": [ada.pk]}
    )

    assert response.status_code == 201, response.content
    assert response.json()["speaker_ids"] == [ada.pk]
    session = Session.objects.get()
    assert list(session.speakers.all()) == [ada]
    change = SessionChange.objects.get(session_id=session.pk)
    assert change.changes["speaker_ids"] == {"old": None, "new": [ada.pk]}


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1,2", "invalid_type"),
        ([1.5], "invalid_type"),
        ([True], "invalid_type"),
        (list(range(1, 52)), "invalid_type"),
    ],
    ids=["string", "float", "bool", "too-many"],
)
def test_speaker_ids_of_the_wrong_shape_are_422(api, event, value, code):
    session = f.scheduled(event=event)

    response = api.patch(f"/api/v1/sessions/{session.pk}", {"speaker_ids": value})

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("speaker_ids", code)]


def test_speaker_ids_must_be_distinct_speakers_of_the_event(api, event):
    ada = speaker(event)
    elsewhere = speaker(f.event(organisation=event.organisation))
    session = f.scheduled(event=event)

    for value, code in (([ada.pk, ada.pk], "duplicate"), ([elsewhere.pk], "does_not_exist")):
        response = api.patch(f"/api/v1/sessions/{session.pk}", {"speaker_ids": value})
        assert response.status_code == 422, response.content
        assert response.json()["errors"][0]["code"] == code
    response = api.patch(f"/api/v1/sessions/{session.pk}", {"speaker_ids": "1"}, form=True)
    assert response.status_code == 422
    session.refresh_from_db()
    assert session.speaker_ids is None and session.version == 1


@pytest.fixture
def booked(event):
    """Ada speaks in a held session from 10:00 to 11:00 in the Hall."""
    ada = speaker(event)
    hall, lab = f.location(event=event, name="Hall"), f.location(event=event, name="Lab")
    keynote = f.scheduled(
        event=event,
        name="Keynote",
        location=hall,
        session_status="approved",
        start="10:00",
        end="11:00",
    )
    Session.objects.filter(pk=keynote.pk).update(speaker_ids=[ada.pk])
    SessionSpeaker.objects.create(session=keynote, speaker=ada)
    return ada, keynote, lab


def test_a_speaker_in_two_places_at_once_is_409_naming_them(api, event, booked):
    ada, keynote, lab = booked
    workshop = f.scheduled(
        event=event, location=lab, session_status="approved", start="10:30", end="11:30"
    )

    response = api.patch(f"/api/v1/sessions/{workshop.pk}", {"speaker_ids": [ada.pk]})

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["errors"][0]["field"] == "speaker_ids"
    assert body["errors"][0]["code"] == "conflict"
    assert body["errors"][0]["message"] == (
        f'Ada Lovelace already speaks at this time in "Keynote" (#{keynote.pk}).'
    )
    (conflict,) = body["conflicts"]
    assert conflict["id"] == keynote.pk
    assert conflict["speakers"] == [{"id": ada.pk, "name": "Ada Lovelace"}]
    workshop.refresh_from_db()
    assert workshop.speaker_ids is None and workshop.version == 1
    assert not SessionSpeaker.objects.filter(session=workshop).exists()
    assert not SessionChange.objects.filter(session_id=workshop.pk).exists()


def test_a_status_move_or_a_new_time_that_double_books_a_speaker_is_409(api, event, booked):
    ada, keynote, lab = booked
    proposal = f.scheduled(event=event, location=lab, start="10:30", end="11:30")
    later = f.scheduled(
        event=event, location=lab, session_status="approved", start="12:00", end="13:00"
    )
    for session in (proposal, later):
        response = api.patch(f"/api/v1/sessions/{session.pk}", {"speaker_ids": [ada.pk]})
        assert response.status_code == 200, response.content  # not held, or no overlap

    moved = api.patch(f"/api/v1/sessions/{later.pk}", {"start_time": "10:45"})
    approved = api.patch(f"/api/v1/sessions/{proposal.pk}", {"session_status": "approved"})

    for response in (moved, approved):
        assert response.status_code == 409, response.content
        assert [c["id"] for c in response.json()["conflicts"]] == [keynote.pk]
    adjacent = api.patch(f"/api/v1/sessions/{later.pk}", {"start_time": "11:00"})
    assert adjacent.status_code == 200  # half-open: 10-11 and 11-13 do not clash


def test_a_speaker_in_sessions_cannot_be_deleted(api, event, booked):
    ada, _, _ = booked

    response = api.delete(f"/api/v1/speakers/{ada.pk}")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "speaker_in_sessions"
    assert Speaker.objects.filter(pk=ada.pk).exists()


def test_expand_speakers_and_sessions(api, event, booked):
    ada, keynote, _ = booked

    session = api.get(f"/api/v1/sessions/{keynote.pk}", {"expand": "speakers"}).json()
    assert session["speakers"] == [api.get(f"/api/v1/speakers/{ada.pk}").json()]
    listed = api.get("/api/v1/sessions", {"expand": "speakers", "ids": keynote.pk}).json()
    assert listed["items"][0]["speakers"][0]["id"] == ada.pk
    speakers = api.get("/api/v1/speakers", {"expand": "sessions"}).json()["items"]
    assert [item["id"] for item in speakers[0]["sessions"]] == [keynote.pk]
    assert speakers[0]["session_ids"] == [keynote.pk]


@pytest.mark.parametrize("count", [1, 50])
def test_expanded_lists_query_count_does_not_grow(
    api, event, count, django_assert_num_queries, database_rate_limit
):
    for n in range(count):
        guest = speaker(event, first=f"Guest{n}")
        session = f.session(event=event, name=f"S{n}", speaker_ids=[guest.pk])
        SessionSpeaker.objects.create(session=session, speaker=guest)

    # token, rate limit, events' counts, page, the page's speakers, their session ids, their
    # availability
    with django_assert_num_queries(7):
        response = api.get("/api/v1/sessions", {"expand": "speakers", "per-page": 200})
    assert all(len(item["speakers"]) == 1 for item in response.json()["items"])
    # token, rate limit, page, their availability, the page's sessions (a page that is not
    # full needs no count)
    with django_assert_num_queries(5):
        response = api.get("/api/v1/speakers", {"expand": "sessions", "per-page": 200})
    assert all(len(item["sessions"]) == 1 for item in response.json()["items"])
    # token, rate limit, page, their availability, the page's session ids
    with django_assert_num_queries(5):
        response = api.get("/api/v1/speakers", {"per-page": 200})
    assert len(response.json()["items"]) == count


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_assignments_of_one_speaker_racing_give_one_200_and_one_409(make_caller, organisation):
    event = f.event(organisation=organisation)
    ada = speaker(event)
    rooms = [f.location(event=event, name=name) for name in ("Hall", "Lab")]
    sessions = [
        f.scheduled(event=event, location=room, session_status="approved", start=start, end=end)
        for room, (start, end) in zip(rooms, [("10:00", "11:00"), ("10:30", "11:30")], strict=True)
    ]
    caller = make_caller(organisation)
    barrier = threading.Barrier(2)
    answers = {}

    def assign(session_id):
        http = Client()
        try:
            barrier.wait(timeout=10)
            answers[session_id] = http.patch(
                f"/api/v1/sessions/{session_id}",
                f'{{"speaker_ids": [{ada.pk}]}}',
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {caller.token}",
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=assign, args=(s.pk,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(r.status_code for r in answers.values()) == [200, 409]
    winner = next(pk for pk, r in answers.items() if r.status_code == 200)
    loser = next(r for r in answers.values() if r.status_code == 409)
    assert [c["id"] for c in loser.json()["conflicts"]] == [winner]
    assert list(SessionSpeaker.objects.values_list("session_id", flat=True)) == [winner]


def test_availability_is_written_and_read_in_a_json_body(api, event):
    created = api.post(
        "/api/v1/speakers",
        {
            "event_id": event.pk,
            "first_name": "Ada",
            "availability": [
                {"starts_at": "2030-06-10T13:00:00+02:00", "ends_at": "2030-06-10T18:00:00+02:00"}
            ],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["availability"] == [
        {"starts_at": "2030-06-10T11:00:00Z", "ends_at": "2030-06-10T16:00:00Z"}
    ]
    url = f"/api/v1/speakers/{body['id']}"
    cleared = api.patch(url, {"availability": []})
    assert cleared.status_code == 200 and cleared.json()["availability"] == []
    for bad, code in [
        ([{"starts_at": "2030-06-10T13:00:00Z"}], "invalid_type"),
        ([{"starts_at": "tomorrow", "ends_at": "2030-06-10T13:00:00Z"}], "invalid_datetime"),
        (
            [{"starts_at": "2030-06-10T13:00:00Z", "ends_at": "2030-06-10T12:00:00Z"}],
            "invalid_time_range",
        ),
        ("13:00-18:00", "invalid_type"),
        (
            [{"starts_at": "9999-12-31T10:00:00Z", "ends_at": "9999-12-31T12:00:00Z"}],
            "out_of_range",
        ),
    ]:
        refused = api.patch(url, {"availability": bad})
        assert refused.status_code == 422, (bad, refused.content)
        assert refused.json()["errors"][0] == {
            **refused.json()["errors"][0],
            "field": "availability",
            "code": code,
        }
    in_a_form = api.patch(url, {"availability": "x"}, form=True)
    assert in_a_form.status_code == 422


def test_a_speakers_page_opens_whatever_availability_was_sent(api, event, admin_client):
    """A year-9999 time made the speaker's admin page fail on every load (review #45): it
    is refused, and the page opens."""
    created = api.post("/api/v1/speakers", {"event_id": event.pk, "first_name": "Ada"})
    url = f"/api/v1/speakers/{created.json()['id']}"
    refused = api.patch(
        url,
        {
            "availability": [
                {"starts_at": "9999-12-31T20:00:00Z", "ends_at": "9999-12-31T23:59:59Z"}
            ]
        },
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "out_of_range"
    page = admin_client.get(f"/admin/sessions_app/speaker/{created.json()['id']}/change/")
    assert page.status_code == 200


@pytest.mark.parametrize("name", ["Ada\nLovelace", "Ada\x1b[31m", "Ada\u2029Lovelace"])
def test_a_speaker_name_with_a_control_character_is_422(api, event, name):
    refused = api.post("/api/v1/speakers", {"event_id": event.pk, "first_name": name})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "first_name"
    assert refused.json()["errors"][0]["code"] == "control_characters"


def test_a_name_longer_than_its_limit_is_refused_even_if_it_strips_shorter(api, event):
    """The schema's maxLength counts what is sent; so does the server (make fuzz found a
    last name of 101 NEL characters accepted as an empty one)."""
    refused = api.post(
        "/api/v1/speakers",
        {"event_id": event.pk, "first_name": "Ada", "last_name": "\x85" * 101},
        form=True,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "last_name"
    assert refused.json()["errors"][0]["code"] == "max_length"
