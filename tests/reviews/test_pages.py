"""The committee in the staff UI: a reviewer's queue and form, the organisers' table, and
blind review holding on every page a blind reviewer can open."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app import services
from sessions_app.enums import MemberRole
from sessions_app.models import (
    CallForProposals,
    Comparison,
    Membership,
    Message,
    Review,
    ReviewAssignment,
    Session,
)
from sessions_app.notices import compose
from tests import factories
from tests.reviews.conftest import score

pytestmark = pytest.mark.django_db

QUEUE = "/admin/sessions_app/review/"
TABLE = "/admin/sessions_app/review/committee/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def organiser_of(event):
    user = factories.user(username="boss", is_staff=True)
    user.groups.add(Group.objects.get(name="Organisers"))
    Membership.objects.create(organisation=event.organisation, user=user, role=MemberRole.ORGANISER)
    return user


def test_a_reviewer_saves_and_goes_on_to_the_next_and_the_progress_moves(committee):
    for n in range(3):
        factories.create_via_service(event=committee.event, name=f"Talk {n}")
    services.assign_reviewers(event_id=committee.event.pk)
    reviewer = committee.reviewers[0]
    mine = list(
        ReviewAssignment.objects.filter(reviewer=reviewer)
        .order_by("session__created_at", "session_id")
        .values_list("session_id", flat=True)
    )
    http = logged_in(reviewer)
    page = http.get(QUEUE)
    assert page.status_code == 200
    assert page.context["progress"] == {"done": 0, "total": len(mine), "left": len(mine)}

    relevance, fits = committee.criteria
    response = http.post(
        f"{QUEUE}{mine[0]}/",
        {f"score_{relevance.pk}": "4", f"score_{fits.pk}": "1", "comment": "", "_next": "1"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}{mine[1]}/"
    assert http.get(QUEUE).context["progress"]["done"] == 1
    assert Review.objects.get(reviewer=reviewer).total == pytest.approx(0.85)

    refused = http.post(f"{QUEUE}{mine[1]}/", {f"score_{relevance.pk}": "9"})
    assert refused.status_code == 200 and refused.context["form"].errors
    assert Review.objects.count() == 1


def test_a_proposal_not_given_to_the_reviewer_is_not_found(committee):
    session = factories.create_via_service(event=committee.event, name="Talk")
    services.assign_reviewers(event_id=committee.event.pk)
    outsider = next(
        r for r in committee.reviewers
        if not ReviewAssignment.objects.filter(reviewer=r, session=session).exists()
    )  # fmt: skip
    http = logged_in(outsider)
    assert http.get(f"{QUEUE}{session.pk}/").status_code == 404
    assert http.post(f"{QUEUE}{session.pk}/abstain/").status_code == 404


def test_the_committee_table_ranks_exports_and_decides(committee):
    web, data = committee.tracks
    sessions = [
        factories.create_via_service(
            event=committee.event, name=f"{track.name} {n}", track_id=track.pk
        )
        for track in (web, data)
        for n in range(3)
    ]
    services.assign_reviewers(event_id=committee.event.pk)
    for assignment in ReviewAssignment.objects.select_related("session", "reviewer"):
        n = int(assignment.session.name.split()[-1])
        services.review_save(
            user=assignment.reviewer,
            session_id=assignment.session_id,
            scores=score(committee, 5 - n, 1),
        )
    boss = organiser_of(committee.event)
    http = logged_in(boss)
    page = http.get(TABLE, {"event": committee.event.pk})
    assert page.status_code == 200
    names = [session.name for session, _row, _strength in page.context["table"]]
    assert names[:2] in (["Web 0", "Data 0"], ["Data 0", "Web 0"])
    assert {names[-1], names[-2]} == {"Web 2", "Data 2"}
    html = page.content.decode()
    assert html.count('<svg role="img"') == 2 and "leniency" in html
    assert logged_in(committee.reviewers[0]).get(TABLE).status_code == 403

    exported = http.get(f"{TABLE}export.csv", {"event": committee.event.pk, "track": web.pk})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row["name"] for row in rows] == ["Web 0", "Web 1", "Web 2"]

    decided = http.post(f"{TABLE}decide/", {"event": committee.event.pk, "top": "1", "hold": "1"})
    assert decided.status_code == 302
    status = dict(
        Session.objects.filter(pk__in=[s.pk for s in sessions]).values_list(
            "name", "session_status"
        )
    )
    assert [n for n, s in sorted(status.items()) if s == "approved"] == ["Data 0", "Web 0"]
    assert sorted(n for n, s in status.items() if s == "rejected") == [
        "Data 1", "Data 2", "Web 1", "Web 2",
    ]  # fmt: skip


def test_blind_review_hides_the_speakers_everywhere_a_reviewer_looks(committee, settings):
    """As a blind reviewer, open every page and file reachable: no speaker's name, email
    or bio anywhere."""
    settings.NOTICES = {**settings.NOTICES, "COALESCE_SECONDS": 0.0}
    compose.compose()
    event = committee.event
    committee.settings.blind = True
    committee.settings.save()
    secret = {
        "name": "Zebulon",
        "last": "Quixotic",
        "email": "zq@hidden.example",
        "bio": "Plays the theremin",
    }

    call = CallForProposals.objects.create(
        event=event, opens_at=timezone.now() - dt.timedelta(days=1),
        closes_at=timezone.now() + dt.timedelta(days=1),
    )  # fmt: skip
    proposal, speaker, _ = services.proposal_submit(
        call=call,
        email=secret["email"],
        profile={"first_name": secret["name"], "last_name": secret["last"], "bio": secret["bio"]},
        data={"name": "A talk by someone", "description": "Abstract."},
        co_speakers=[],
    )
    room = factories.location(event=event)
    placed = factories.create_via_service(
        event=event, name="Placed talk", speaker_ids=[speaker.pk], location_id=room.pk,
        date=event.start_date.isoformat(), start_time="10:00", end_time="10:30",
    )  # fmt: skip
    services.session_set_status(session_id=placed.pk, status="approved", actor=services.SYSTEM)
    services.speaker_answer(
        user=services.proposals.speaker_account(secret["email"]),
        session_id=placed.pk,
        answer="confirmed",
    )
    while compose.compose():
        pass
    assert Message.objects.filter(to_email=secret["email"]).exists()
    blind = committee.reviewers[0]
    ReviewAssignment.objects.get_or_create(session=proposal, reviewer=blind)
    http = logged_in(blind)
    pages = [
        "/admin/",
        "/admin/sessions_app/session/",
        "/admin/sessions_app/session/review/",
        f"/admin/sessions_app/session/{proposal.pk}/change/",
        f"/admin/sessions_app/session/{placed.pk}/change/",
        f"/admin/sessions_app/session/{proposal.pk}/history/",
        f"/admin/sessions_app/session/{placed.pk}/history/",
        f"/admin/sessions_app/session/schedule/?event={event.pk}&day={event.start_date}",
        "/admin/sessions_app/session/export.csv",
        "/admin/sessions_app/speaker/",
        f"/admin/sessions_app/speaker/{speaker.pk}/change/",
        "/admin/sessions_app/message/",
        "/admin/autocomplete/?app_label=sessions_app&model_name=session&field_name=speakers&term=Zeb",
        QUEUE,
        f"{QUEUE}{proposal.pk}/",
    ]
    seen = []
    for path in pages:
        response = http.get(path)
        assert response.status_code in (200, 302, 403, 404), (path, response.status_code)
        body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).decode("utf-8", "replace")
        seen.append(path)
        for value in secret.values():
            assert value not in body, (path, value)
    for message in Message.objects.filter(to_email=secret["email"]):
        response = http.get(f"/admin/sessions_app/message/{message.pk}/change/")
        assert secret["email"] not in response.content.decode(), message.pk
    # An organiser of the event sees them (the same pages are not empty by accident).
    boss = logged_in(organiser_of(event))
    assert (
        secret["name"]
        in boss.get(f"/admin/sessions_app/session/{placed.pk}/change/").content.decode()
    )
    assert (
        secret["email"]
        in boss.get(f"/admin/sessions_app/session/{proposal.pk}/history/").content.decode()
    )


def test_deciding_one_track_leaves_the_others_submitted(committee):
    web, data = committee.tracks
    for track in (web, data):
        for n in range(3):
            factories.create_via_service(
                event=committee.event, name=f"{track.name} {n}", track_id=track.pk
            )
    services.assign_reviewers(event_id=committee.event.pk)
    for assignment in ReviewAssignment.objects.select_related("session", "reviewer"):
        n = int(assignment.session.name.split()[-1])
        services.review_save(
            user=assignment.reviewer,
            session_id=assignment.session_id,
            scores=score(committee, 5 - n, 1),
        )
    http = logged_in(organiser_of(committee.event))
    http.post(f"{TABLE}decide/", {"event": committee.event.pk, "top": "2", "track": web.pk})
    status = dict(Session.objects.values_list("name", "session_status"))
    assert status == {
        "Web 0": "approved", "Web 1": "approved", "Web 2": "rejected",
        "Data 0": "submitted", "Data 1": "submitted", "Data 2": "submitted",
    }  # fmt: skip


def test_the_committee_table_runs_the_same_statements_for_1_and_50_proposals(committee):
    http = logged_in(organiser_of(committee.event))

    def statements(count: int) -> int:
        existing = Session.objects.filter(event=committee.event).count()
        for n in range(existing, count):
            factories.create_via_service(
                event=committee.event, name=f"P {n}", track_id=committee.tracks[n % 2].pk
            )
        services.assign_reviewers(event_id=committee.event.pk)
        for assignment in ReviewAssignment.objects.filter(
            session__reviews__isnull=True
        ).select_related("reviewer"):
            if not Review.objects.filter(
                session=assignment.session_id, reviewer=assignment.reviewer
            ).exists():
                services.review_save(
                    user=assignment.reviewer,
                    session_id=assignment.session_id,
                    scores=score(committee, 3, 1),
                )
        with CaptureQueriesContext(connection) as captured:
            assert http.get(TABLE, {"event": committee.event.pk}).status_code == 200
        return len(captured.captured_queries)

    one = statements(1)
    assert statements(50) == one


def test_comparison_mode_shows_a_pair_and_takes_a_judgement(committee):
    a, b = (factories.create_via_service(event=committee.event, name=n) for n in ("A", "B"))
    reviewer = committee.reviewers[0]
    for session in (a, b):
        ReviewAssignment.objects.create(session=session, reviewer=reviewer)
    http = logged_in(reviewer)
    page = http.get(f"{QUEUE}compare/")
    assert page.status_code == 200 and [s.pk for s in page.context["pair"]] == [a.pk, b.pk]
    http.post(f"{QUEUE}compare/", {"event": committee.event.pk, "winner": b.pk, "loser": a.pk})
    assert list(Comparison.objects.values_list("winner_id", "loser_id")) == [(b.pk, a.pk)]
    assert http.get(f"{QUEUE}compare/").context["pair"] is None
    boss = logged_in(organiser_of(committee.event))
    table = boss.get(TABLE, {"event": committee.event.pk})
    strengths = {session.name: strength for session, _row, strength in table.context["table"]}
    assert strengths["B"] > strengths["A"]
