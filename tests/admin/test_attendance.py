"""Registrants in the admin, CSV import, and a session's attendee list: all through the service."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sessions_app.models import Registrant, Selection, Session, SessionChange
from tests import factories as f
from tests.imports import import_done

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def attendees_url(session) -> str:
    return f"/admin/sessions_app/session/{session.pk}/attendees/"


def test_organiser_adds_a_registrant_who_gets_the_included_session(acme):
    included = f.live(event=acme.event, selection_control="included")
    client = logged_in(acme.organiser)

    response = client.post(
        "/admin/sessions_app/registrant/add/",
        {"event": acme.event.pk, "first_name": "Ada", "last_name": "L", "email": "ada@example.org"},
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    ada = Registrant.objects.get()
    assert list(ada.selections.values_list("session_id", flat=True)) == [included.pk]
    entry = SessionChange.objects.get(session_id=included.pk)
    assert entry.actor_user_id == acme.organiser.pk


def test_duplicate_email_shows_on_the_field(acme):
    f.registrant(event=acme.event, email="ada@example.org")
    client = logged_in(acme.organiser)

    response = client.post(
        "/admin/sessions_app/registrant/add/",
        {"event": acme.event.pk, "first_name": "Ada", "email": "ADA@example.org"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "email": ["This event already has a registrant with this email."]
    }
    assert Registrant.objects.count() == 1


def test_registrants_of_another_organisation_are_invisible(acme, globex):
    theirs = f.registrant(event=globex.event)
    client = logged_in(acme.organiser)

    listing = client.get("/admin/sessions_app/registrant/")
    assert theirs.email not in listing.content.decode()
    assert client.get(f"/admin/sessions_app/registrant/{theirs.pk}/change/").status_code == 302
    assert client.get(attendees_url(globex.held)).status_code == 404


def test_reviewers_do_not_see_registrants(acme):
    client = logged_in(acme.reviewer)

    assert client.get("/admin/sessions_app/registrant/").status_code == 403


def test_registrant_list_search_and_query_count(acme, django_assert_max_num_queries):
    for n in range(30):
        f.registrant(event=acme.event, first_name=f"Person{n}", email=f"p{n}@example.org")
    client = logged_in(acme.organiser)
    client.get("/admin/sessions_app/registrant/")  # warm the session and content types

    with django_assert_max_num_queries(12):
        response = client.get("/admin/sessions_app/registrant/", {"q": "person1"})

    names = {r.first_name for r in response.context["cl"].result_list}
    assert names == {"Person1", *(f"Person1{n}" for n in range(10))}


def test_csv_import_registers_good_rows_and_reports_refused_ones(acme):
    f.registrant(event=acme.event, email="taken@example.org")
    csv_text = (
        "first_name,last_name,email\n"
        "Ada,Lovelace,ada@example.org\n"
        "Bad,Email,not-an-email\n"
        "Dup,Licate,TAKEN@example.org\n"
        ",NoFirst,nofirst@example.org\n"
        "Grace,Hopper,grace@example.org\n"
    )
    client = logged_in(acme.organiser)

    response = client.post(
        "/admin/sessions_app/registrant/import/",
        {"event": acme.event.pk, "file": SimpleUploadedFile("people.csv", csv_text.encode())},
    )

    response = import_done(client, response)
    report = response.context["job"].report
    assert report["created"] == 2
    assert [(r["row"], r["email"]) for r in report["refused"]] == [
        (3, "not-an-email"),
        (4, "TAKEN@example.org"),
        (5, "nofirst@example.org"),
    ]
    assert "already has a registrant" in report["refused"][1]["why"]
    assert set(Registrant.objects.values_list("email", flat=True)) == {
        "taken@example.org",
        "ada@example.org",
        "grace@example.org",
    }


def test_csv_import_without_the_columns_is_refused_whole(acme):
    client = logged_in(acme.organiser)

    response = client.post(
        "/admin/sessions_app/registrant/import/",
        {"event": acme.event.pk, "file": SimpleUploadedFile("x.csv", b"name,mail\nAda,a@b.c\n")},
    )

    assert "missing: email, first_name" in response.content.decode()
    assert not Registrant.objects.exists()


def test_attendee_list_shows_seats_and_waitlist_in_order(acme):
    session = f.live(event=acme.event, capacity=1)
    holder = f.registrant(event=acme.event, first_name="Holder")
    first = f.registrant(event=acme.event, first_name="FirstWaiting")
    second = f.registrant(event=acme.event, first_name="SecondWaiting")
    client = logged_in(acme.organiser)
    for person, waitlist in ((holder, ""), (first, "on"), (second, "on")):
        client.post(attendees_url(session), {"email": person.email, "waitlist": waitlist})

    response = client.get(attendees_url(session))

    assert [s.registrant_id for s in response.context["seated"]] == [holder.pk]
    assert [(s.registrant_id, s.waitlist_position) for s in response.context["waiting"]] == [
        (first.pk, 1),
        (second.pk, 2),
    ]


def test_organiser_frees_a_locked_seat_and_the_first_waiting_takes_it(acme):
    session = f.live(event=acme.event, capacity=1, locked_when_saved=True)
    holder, waiting = f.registrant(event=acme.event), f.registrant(event=acme.event)
    Selection.objects.create(registrant=holder, session=session, state="selected")
    Selection.objects.create(registrant=waiting, session=session, state="waitlisted")
    Session.objects.filter(pk=session.pk).update(seats_taken=1, waitlist_count=1)
    client = logged_in(acme.organiser)

    client.post(attendees_url(session), {"remove": holder.pk, "override_lock": "1"})

    assert dict(Selection.objects.values_list("registrant_id", "state")) == {waiting.pk: "selected"}
    actions = SessionChange.objects.filter(session_id=session.pk).values_list("action", flat=True)
    assert sorted(actions) == ["selection.deleted", "selection.promoted"]


def test_add_to_a_full_session_is_refused_unless_overridden(acme):
    session = f.live(event=acme.event, capacity=0, sold_out_message="No room")
    ada = f.registrant(event=acme.event)
    client = logged_in(acme.organiser)

    refused = client.post(attendees_url(session), {"email": ada.email})
    assert "No room" in refused.content.decode()
    assert not Selection.objects.exists()

    client.post(attendees_url(session), {"email": ada.email, "override_capacity": "on"})
    assert Selection.objects.get().state == "selected"


def test_reviewer_may_not_read_or_change_the_attendee_list(acme):
    """Who holds a seat is registrants' personal data, which reviewers do not read."""
    session = f.live(event=acme.event)
    client = logged_in(acme.reviewer)

    assert client.get(attendees_url(session)).status_code == 403
    assert client.post(attendees_url(session), {"email": "x@example.org"}).status_code == 403
    assert (
        "attendees/"
        not in client.get(f"/admin/sessions_app/session/{session.pk}/change/").content.decode()
    )


def test_session_list_shows_seats_without_a_query_per_row(acme, django_assert_max_num_queries):
    for n in range(20):
        f.live(
            event=acme.event,
            capacity=10,
            day=n % 3,
            start=f"{8 + n % 8:02d}:00",
            end=f"{8 + n % 8:02d}:30",
        )
    client = logged_in(acme.organiser)
    client.get("/admin/sessions_app/session/")

    with django_assert_max_num_queries(12):
        response = client.get("/admin/sessions_app/session/")

    assert "10 left" in response.content.decode()


def test_reset_page_link_action_revokes_the_old_link(acme):
    ada = f.registrant(event=acme.event)
    old_path = ada.get_selection_path()
    client = logged_in(acme.organiser)

    client.post(
        "/admin/sessions_app/registrant/",
        {"action": "reset_page_links", "_selected_action": [ada.pk]},
    )

    assert Client().get(old_path).status_code == 404
    fresh = Registrant.objects.get(pk=ada.pk)
    assert Client().get(fresh.get_selection_path()).status_code == 200


def test_the_session_list_links_the_seats_only_for_those_who_may_open_the_attendees(acme):
    session = f.live(event=acme.event, capacity=10)
    url = attendees_url(session)
    organiser = logged_in(acme.organiser).get("/admin/sessions_app/session/").content.decode()
    reviewer = logged_in(acme.reviewer).get("/admin/sessions_app/session/").content.decode()
    assert f'href="{url}"' in organiser
    assert f'href="{url}"' not in reviewer and "0 of 10 taken" in reviewer


def test_an_approved_session_lists_who_is_interested_and_the_list_counts_them(acme):
    session = f.scheduled(event=acme.event, session_status="approved", name="Proposed talk")
    ada = f.registrant(event=acme.event, first_name="Ada", email="ada@example.org")
    client = logged_in(acme.organiser)

    added = client.post(attendees_url(session), {"email": "ada@example.org", "add": "1"})
    assert added.status_code == 302
    page = client.get(attendees_url(session)).content.decode()

    assert Selection.objects.get(registrant=ada, session=session).state == "interested"
    assert "<strong>1</strong> interested" in page and 'id="interested"' in page
    listing = client.get("/admin/sessions_app/session/", {"event": acme.event.pk})
    assert "1 interested" in listing.content.decode()
