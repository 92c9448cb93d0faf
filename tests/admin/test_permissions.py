"""Who sees and changes what: roles from groups, organisations from memberships."""

import json

import pytest

from sessions_app.enums import MemberRole, SessionStatus
from sessions_app.models import CustomField, Event, Session, SessionChange, Track
from tests import factories
from tests.admin.conftest import change_url, form_data, staff

LIST = "/admin/sessions_app/session/"
MISSING_ID = 987654


def assert_like_missing(response):
    """The answer for another organisation's object: the admin's own 'does not exist'."""
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_session_list_organiser_sees_only_own_organisation(client, acme, globex):
    client.force_login(acme.organiser)
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme keynote" in body and "Acme proposal" in body
    assert "Globex" not in body
    assert response.context["cl"].result_count == 2


def test_session_list_superuser_sees_every_organisation(client, acme, globex, superuser):
    client.force_login(superuser)
    response = client.get(LIST)
    assert response.context["cl"].result_count == 4


def test_session_list_staff_without_membership_is_refused(client, acme):
    outsider = factories.user(username="outsider")
    outsider.groups.add(*acme.organiser.groups.all())
    client.force_login(outsider)
    assert client.get(LIST).status_code == 403
    index = client.get("/admin/")
    assert index.context["app_list"] == []
    assert "Review queue" not in index.content.decode()


def test_session_list_filter_choices_hide_other_organisations(client, acme, globex):
    client.force_login(acme.organiser)
    body = client.get(LIST).content.decode()
    for name in ("Globex Summit", "Globex Track", "Globex Hall"):
        assert name not in body


@pytest.mark.parametrize("param", ["event", "track", "location"])
def test_session_list_filter_by_foreign_id_shows_nothing(client, acme, globex, param):
    client.force_login(acme.organiser)
    foreign = {"event": globex.event, "track": globex.track, "location": globex.room}[param]
    response = client.get(LIST, {param: foreign.pk})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert "Globex" not in response.content.decode()


def test_session_list_malformed_filter_values_do_not_fail(client, acme):
    client.force_login(acme.organiser)
    for params in ({"event": "x"}, {"track": "1e3"}, {"day": "2030-13-45"}, {"location": "-1"}):
        assert client.get(LIST, params).status_code == 200


@pytest.mark.parametrize(
    "suffix", ["change/", "history/", "delete/"], ids=["change", "history", "delete"]
)
def test_session_url_of_other_organisation_answers_like_missing(client, acme, globex, suffix):
    client.force_login(acme.organiser)
    foreign = client.get(f"/admin/sessions_app/session/{globex.held.pk}/{suffix}")
    missing = client.get(f"/admin/sessions_app/session/{MISSING_ID}/{suffix}")
    assert_like_missing(foreign)
    assert_like_missing(missing)


def test_session_change_post_to_other_organisation_changes_nothing(client, acme, globex):
    client.force_login(acme.organiser)
    before = Session.objects.get(pk=globex.held.pk)
    response = client.post(change_url(globex.held), form_data(globex.held, name="Hijacked"))
    assert_like_missing(response)
    after = Session.objects.get(pk=globex.held.pk)
    assert (after.name, after.version) == (before.name, before.version)
    assert not SessionChange.objects.exists()


def test_status_move_on_other_organisation_answers_like_missing(client, acme, globex):
    client.force_login(acme.reviewer)
    url = f"/admin/sessions_app/session/{globex.proposal.pk}/status/"
    assert_like_missing(client.post(url, {"status": "approved"}))
    assert Session.objects.get(pk=globex.proposal.pk).session_status == SessionStatus.SUBMITTED


@pytest.mark.parametrize("model", ["event", "track", "location", "customfield"], ids=str)
def test_event_side_url_of_other_organisation_answers_like_missing(client, acme, globex, model):
    field = factories.custom_field(event=globex.event)
    objects = {
        "event": globex.event,
        "track": globex.track,
        "location": globex.room,
        "customfield": field,
    }
    client.force_login(acme.organiser)
    response = client.get(f"/admin/sessions_app/{model}/{objects[model].pk}/change/")
    assert_like_missing(response)


@pytest.mark.parametrize(
    ("model", "field"),
    [("session", "event"), ("session", "track"), ("session", "location"), ("track", "event")],
)
def test_autocomplete_never_offers_other_organisations(client, acme, globex, model, field):
    client.force_login(acme.organiser)
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "sessions_app", "model_name": model, "field_name": field, "term": ""},
    )
    if response.status_code == 200:
        texts = [item["text"] for item in json.loads(response.content)["results"]]
        assert texts and not [t for t in texts if "Globex" in t]
    else:
        assert response.status_code in (403, 404)


@pytest.mark.parametrize("model", ["track", "location", "event", "customfield"])
def test_related_lookup_popup_lists_only_own_organisation(client, acme, globex, model):
    factories.custom_field(event=acme.event, label="Acme field")
    factories.custom_field(event=globex.event, label="Globex field")
    client.force_login(acme.organiser)
    response = client.get(f"/admin/sessions_app/{model}/", {"_popup": "1", "_to_field": "id"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme" in body
    assert "Globex" not in body


def test_session_form_offers_only_the_events_tracks_and_locations(client, acme, globex):
    sibling = factories.event(organisation=acme.event.organisation, name="Acme Sibling")
    factories.track(event=sibling, name="Sibling Track")
    factories.location(event=sibling, name="Sibling Room")
    client.force_login(acme.organiser)
    form = client.get(change_url(acme.held)).context["adminform"].form
    assert set(form.fields["track"].queryset) == {acme.track, acme.other_track}
    assert set(form.fields["location"].queryset) == {acme.room, acme.other_room}


def test_session_form_refuses_a_track_of_another_event(client, acme, globex):
    client.force_login(acme.organiser)
    response = client.post(change_url(acme.held), form_data(acme.held, track=globex.track.pk))
    assert response.status_code == 200
    assert "track" in response.context["adminform"].form.errors
    assert Session.objects.get(pk=acme.held.pk).track_id == acme.track.pk
    assert not SessionChange.objects.exists()


def test_session_add_for_other_organisations_event_is_not_found(client, acme, globex):
    client.force_login(acme.organiser)
    response = client.get("/admin/sessions_app/session/add/", {"event": globex.event.pk})
    assert response.status_code == 404
    response = client.post(
        f"/admin/sessions_app/session/add/?event={globex.event.pk}", {"name": "Sneaky"}
    )
    assert response.status_code == 404
    assert not Session.objects.filter(name="Sneaky").exists()


def test_session_add_with_one_event_goes_straight_to_its_form(client, acme, globex):
    client.force_login(acme.organiser)
    response = client.get("/admin/sessions_app/session/add/")
    assert response.status_code == 302
    assert response["Location"].endswith(f"?event={acme.event.pk}")


def test_reviewer_views_session_but_cannot_change_it(client, acme):
    client.force_login(acme.reviewer)
    response = client.get(change_url(acme.proposal))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    response = client.post(change_url(acme.proposal), form_data(acme.proposal, name="Renamed"))
    assert response.status_code == 403
    assert Session.objects.get(pk=acme.proposal.pk).name == "Acme proposal"


def test_reviewer_cannot_add_or_delete_sessions(client, acme):
    client.force_login(acme.reviewer)
    assert client.get(f"/admin/sessions_app/session/add/?event={acme.event.pk}").status_code == 403
    response = client.post(
        f"/admin/sessions_app/session/{acme.proposal.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert Session.objects.filter(pk=acme.proposal.pk).exists()


def test_organiser_cannot_move_status(client, acme):
    client.force_login(acme.organiser)
    response = client.post(
        f"/admin/sessions_app/session/{acme.proposal.pk}/status/", {"status": "approved"}
    )
    assert response.status_code == 403
    assert Session.objects.get(pk=acme.proposal.pk).session_status == SessionStatus.SUBMITTED
    assert not SessionChange.objects.exists()


def test_organiser_gets_no_status_buttons_or_bulk_actions(client, acme):
    client.force_login(acme.organiser)
    assert client.get(change_url(acme.proposal)).context["status_moves"] == []
    response = client.post(
        LIST, {"action": "approve_selected", "_selected_action": [acme.proposal.pk]}
    )
    assert Session.objects.get(pk=acme.proposal.pk).session_status == SessionStatus.SUBMITTED
    assert response.status_code in (200, 302)


def test_organiser_of_one_and_reviewer_of_other_organisation_is_held_to_each_role(
    client, acme, globex
):
    factories_user = staff(acme.event.organisation, MemberRole.ORGANISER, username="both")
    from sessions_app.models import Membership

    Membership.objects.create(
        organisation=globex.event.organisation, user=factories_user, role=MemberRole.REVIEWER
    )
    factories_user.groups.add(*globex.reviewer.groups.all())
    client.force_login(factories_user)
    # May edit Acme's sessions but not review them ...
    assert client.get(change_url(acme.proposal)).context["has_change_permission"] is True
    assert client.get(change_url(acme.proposal)).context["status_moves"] == []
    # ... and review Globex's but not edit them.
    page = client.get(change_url(globex.proposal))
    assert page.context["has_change_permission"] is False
    assert [m["status"] for m in page.context["status_moves"]] == [
        "approved",
        "rejected",
        "withdrawn",
    ]
    response = client.post(change_url(globex.proposal), form_data(globex.proposal, name="X"))
    assert response.status_code == 403


def test_event_admin_organiser_edits_own_event_reviewer_only_views(client, acme):
    client.force_login(acme.reviewer)
    url = f"/admin/sessions_app/event/{acme.event.pk}/change/"
    assert client.get(url).context["has_change_permission"] is False
    client.force_login(acme.organiser)
    assert client.get(url).context["has_change_permission"] is True


def test_event_add_offers_only_organisations_where_user_organises(client, acme, globex):
    client.force_login(acme.organiser)
    form = client.get("/admin/sessions_app/event/add/").context["adminform"].form
    assert list(form.fields["organisation"].queryset) == [acme.event.organisation]
    response = client.post(
        "/admin/sessions_app/event/add/",
        {
            "organisation": globex.event.organisation.pk,
            "name": "Planted",
            "slug": "planted",
            "timezone": "UTC",
            "start_date": "2030-01-01",
            "end_date": "2030-01-02",
        },
    )
    assert response.status_code == 200
    assert not Event.objects.filter(name="Planted").exists()


def test_track_add_refuses_other_organisations_event(client, acme, globex):
    client.force_login(acme.organiser)
    response = client.post(
        "/admin/sessions_app/track/add/",
        {"event": globex.event.pk, "name": "Planted", "color": "#000000"},
    )
    assert response.status_code == 200
    assert not Track.objects.filter(name="Planted").exists()


def test_custom_field_with_choices_is_editable_by_organiser(client, acme):
    client.force_login(acme.organiser)
    response = client.post(
        "/admin/sessions_app/customfield/add/",
        {
            "event": acme.event.pk,
            "label": "Format",
            "field_type": "dropdown",
            "sort_order": "0",
            "help_text": "",
            "choices-TOTAL_FORMS": "2",
            "choices-INITIAL_FORMS": "0",
            "choices-MIN_NUM_FORMS": "0",
            "choices-MAX_NUM_FORMS": "1000",
            "choices-0-label": "Talk",
            "choices-0-sort_order": "0",
            "choices-1-label": "Workshop",
            "choices-1-sort_order": "1",
        },
    )
    assert response.status_code == 302
    field = CustomField.objects.get(label="Format")
    assert (field.event, [c.label for c in field.choices.all()]) == (
        acme.event,
        ["Talk", "Workshop"],
    )


def test_custom_field_reviewer_cannot_add(client, acme):
    client.force_login(acme.reviewer)
    assert client.get("/admin/sessions_app/customfield/add/").status_code == 403


def test_schedule_of_other_organisations_event_is_not_found(client, acme, globex):
    client.force_login(acme.organiser)
    assert (
        client.get("/admin/sessions_app/session/schedule/", {"event": globex.event.pk}).status_code
        == 404
    )
    body = client.get("/admin/sessions_app/session/schedule/").content.decode()
    assert "Acme keynote" in body and "Globex" not in body


def test_review_queue_shows_only_own_submitted_sessions(client, acme, globex):
    client.force_login(acme.reviewer)
    response = client.get("/admin/sessions_app/session/review/")
    assert [s.name for s in response.context["cl"].result_list] == ["Acme proposal"]


def test_history_of_own_session_lists_only_its_entries(client, acme, globex):
    from sessions_app import services

    services.session_update(
        session_id=globex.held.pk, data={"name": "Globex secret"}, actor=services.SYSTEM
    )
    services.session_update(
        session_id=acme.held.pk, data={"name": "Acme renamed"}, actor=services.SYSTEM
    )
    client.force_login(acme.reviewer)
    response = client.get(f"/admin/sessions_app/session/{acme.held.pk}/history/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme renamed" in body and "Globex secret" not in body


def test_admin_shortcut_url_does_not_reveal_which_sessions_exist(client, db):
    """/admin/r/<type>/<id>/ would redirect for any existing session, of any organisation."""
    from django.contrib.contenttypes.models import ContentType

    from sessions_app.models import Session
    from tests import factories

    staff = factories.user()
    session = factories.session(event=factories.event())
    client.force_login(staff)
    content_type = ContentType.objects.get_for_model(Session)
    existing = client.get(f"/admin/r/{content_type.pk}/{session.pk}/")
    missing = client.get(f"/admin/r/{content_type.pk}/{session.pk + 1000}/")
    assert existing.status_code == missing.status_code == 404
