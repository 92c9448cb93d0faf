"""Every staff-UI URL and every admin action against every kind of caller.

``ROLES`` is the one table of what each role may do with each model, in the organisations
where it is held (the organisers' guide prints the same table); ``CUSTOM`` says what each
custom view answers each caller. The stock views' answers follow from ``ROLES``. A URL or an
action that is in neither fails ``test_every_url_has_a_row`` / ``..._every_action...``, so a
new view cannot ship without saying who may use it.

The callers, with the objects all in Acme: anonymous; Acme's reviewer; Acme's organiser;
Globex's organiser (another organisation); and a user who is organiser of Globex and
reviewer of Acme (two roles in two organisations).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import URLResolver, reverse
from django.utils import timezone

from sessions_app import services
from sessions_app.enums import ROLE_GROUPS, MemberRole, NoticeKind
from sessions_app.models import (
    BlockedSlot,
    CallForProposals,
    ExportJob,
    ImportJob,
    MessageTemplate,
    PrivacyRequest,
    ReviewAssignment,
    ReviewCriterion,
    Reviewer,
    ReviewSettings,
    ScheduleProposal,
    SessionType,
    Speaker,
    StaffSignIn,
    WebhookDelivery,
)
from sessions_app.webhooks import subscriptions
from tests import factories
from tests.admin.conftest import make_org, staff

ACTORS = ["anonymous", "reviewer", "organiser", "other", "mixed"]
ROLES_OF = {
    "reviewer": {"acme": MemberRole.REVIEWER},
    "organiser": {"acme": MemberRole.ORGANISER},
    "other": {"globex": MemberRole.ORGANISER},
    "mixed": {"globex": MemberRole.ORGANISER, "acme": MemberRole.REVIEWER},
}

# What each role may do with each of our models: v(iew), a(dd), c(hange), d(elete), r(eview).
ROLES = {
    "session": {"organiser": "vacd", "reviewer": "vr"},
    "event": {"organiser": "vacd", "reviewer": "v"},
    "track": {"organiser": "vacd", "reviewer": "v"},
    "sessiontype": {"organiser": "vacd", "reviewer": "v"},
    "callforproposals": {"organiser": "vacd", "reviewer": "v"},
    "reviewsettings": {"organiser": "vacd", "reviewer": "v"},
    "reviewcriterion": {"organiser": "vacd", "reviewer": "v"},
    "reviewer": {"organiser": "vacd", "reviewer": "v"},
    "reviewassignment": {"organiser": "vc", "reviewer": "v"},  # organisers reassign
    "review": {"organiser": "v", "reviewer": "vac"},  # a reviewer's own (the views check)
    "location": {"organiser": "vacd", "reviewer": "v"},
    "customfield": {"organiser": "vacd", "reviewer": "v"},
    "speaker": {"organiser": "vacd", "reviewer": "v"},
    "blockedslot": {"organiser": "vacd", "reviewer": "v"},
    "messagetemplate": {"organiser": "vacd", "reviewer": "v"},
    "message": {"organiser": "vc", "reviewer": "v"},  # to registrants: only with registrant
    "registrant": {"organiser": "vacd", "reviewer": ""},
    "apiclient": {"organiser": "vacd", "reviewer": ""},
    "webhooksubscription": {"organiser": "vacd", "reviewer": ""},
    "webhookdelivery": {"organiser": "vc", "reviewer": ""},
    "privacyrequest": {"organiser": "va", "reviewer": ""},  # the audit trail: read only
    "staffsignin": {"organiser": "vacd", "reviewer": ""},
    "organisation": {"organiser": "", "reviewer": ""},
}
# Models of the libraries under us: superusers only.
LIBRARY_APPS = {
    "auth",
    "oauth2_provider",
    "axes",
    "django_tasks_database",
    "mfa",  # a person's second factors: a superuser removes a lost one
    "socialaccount",  # who is linked to which provider's account
}
CODES = {"v": "view", "a": "add", "c": "change", "d": "delete", "r": "review"}

# Custom views: {url name: (method, {actor: answer})}. Answers: ok (200, or a redirect that
# is not to the login page or the index), login, denied (403), index (the admin's "does not
# exist" redirect to its index; a signed-in user's login page too), gone (404).
EVERYONE_STAFF = {"reviewer": "ok", "organiser": "ok", "other": "ok", "mixed": "ok"}
CUSTOM = {
    "index": ("GET", EVERYONE_STAFF),
    # The admin's login page sends everyone to the staff sign-in (/accounts/login/).
    "login": ("GET", {"anonymous": "login", **dict.fromkeys(EVERYONE_STAFF, "index")}),
    "logout": ("POST", {"anonymous": "index", **EVERYONE_STAFF}),
    "password_change": ("GET", EVERYONE_STAFF),
    "password_change_done": ("GET", EVERYONE_STAFF),
    "jsi18n": ("GET", EVERYONE_STAFF),
    "auth_user_password_change": ("GET", dict.fromkeys(EVERYONE_STAFF, "denied")),
    "autocomplete": ("GET", EVERYONE_STAFF),  # scoped rows: test_permissions
    "view_on_site": ("GET", dict.fromkeys(EVERYONE_STAFF, "gone")),  # no model has a page
    "app_list": ("GET", EVERYONE_STAFF),
    "sessions_app_session_review": ("GET", EVERYONE_STAFF),
    "sessions_app_session_schedule": (
        "GET",
        {"reviewer": "ok", "organiser": "ok", "other": "gone", "mixed": "ok"},
    ),
    "sessions_app_session_schedule_state": (
        "GET",
        {"reviewer": "ok", "organiser": "ok", "other": "gone", "mixed": "ok"},
    ),
    "sessions_app_session_schedule_move": (
        "POST",
        {"reviewer": "denied", "organiser": "ok", "other": "gone", "mixed": "denied"},
    ),
    "sessions_app_session_schedule_suggest": (
        "POST",
        {"reviewer": "denied", "organiser": "ok", "other": "gone", "mixed": "denied"},
    ),
    "sessions_app_session_schedule_proposal": (
        "POST",
        {"reviewer": "denied", "organiser": "ok", "other": "gone", "mixed": "denied"},
    ),
    "sessions_app_session_status": (
        "POST",
        {"reviewer": "ok", "organiser": "denied", "other": "index", "mixed": "ok"},
    ),
    "sessions_app_session_attendees": (
        "GET",
        {"reviewer": "denied", "organiser": "ok", "other": "gone", "mixed": "denied"},
    ),
    # Staff sign-ins: for those who see the audit trail, of their own organisations' staff.
    "sessions_app_privacyrequest_signins": (
        "GET",
        {"reviewer": "denied", "organiser": "ok", "other": "ok", "mixed": "ok"},
    ),
    "sessions_app_session_export_csv": ("GET", EVERYONE_STAFF),
    "sessions_app_session_export_xlsx": ("GET", EVERYONE_STAFF),
    # An export is its maker's own: Acme's organiser made it.
    "sessions_app_session_export_job": (
        "GET",
        {"reviewer": "gone", "organiser": "ok", "other": "gone", "mixed": "gone"},
    ),
    "sessions_app_session_export_file": (
        "GET",
        {"reviewer": "gone", "organiser": "ok", "other": "gone", "mixed": "gone"},
    ),
    # Imports: for those who may add sessions (registrants), into events they organise.
    "sessions_app_session_import": (
        "GET",
        {"reviewer": "denied", "organiser": "ok", "other": "ok", "mixed": "ok"},
    ),
    "sessions_app_session_import_job": (
        "GET",
        {"reviewer": "denied", "organiser": "ok", "other": "gone", "mixed": "gone"},
    ),
    "sessions_app_registrant_import": (
        "GET",
        {"reviewer": "denied", "organiser": "ok", "other": "ok", "mixed": "ok"},
    ),
    "sessions_app_registrant_import_job": (
        "GET",
        {"reviewer": "denied", "organiser": "ok", "other": "gone", "mixed": "gone"},
    ),
    # The review form and abstaining: the reviewer the proposal is given to, alone.
    "sessions_app_review_form": (
        "GET",
        {"reviewer": "ok", "organiser": "gone", "other": "gone", "mixed": "gone"},
    ),
    "sessions_app_review_compare": (
        "GET",
        {"reviewer": "ok", "organiser": "gone", "other": "gone", "mixed": "gone"},
    ),
    "sessions_app_review_abstain": (
        "POST",
        {"reviewer": "ok", "organiser": "gone", "other": "gone", "mixed": "gone"},
    ),
    # The committee's table, its export and the decision: the event's organisers.
    **{
        name: (
            method,
            {"reviewer": "denied", "organiser": "ok", "other": "gone", "mixed": "gone"},
        )
        for name, method in (
            ("sessions_app_review_committee", "GET"),
            ("sessions_app_review_export", "GET"),
            ("sessions_app_review_decide", "POST"),
        )
    },
    "sessions_app_speaker_event_autocomplete": (
        "GET",
        {"reviewer": "ok", "organiser": "ok", "other": "denied", "mixed": "ok"},
    ),
}


def all_url_names() -> set[str]:
    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif pattern.name:
                yield pattern.name

    return set(walk(admin.site.get_urls()))


def stock_name(name: str) -> tuple[str, str, str] | None:
    """``sessions_app_session_change`` -> ("sessions_app", "session", "change")."""
    for view in ("changelist", "add", "history", "delete", "change"):
        if name.endswith("_" + view):
            for model in admin.site._registry:
                opts = model._meta
                if name == f"{opts.app_label}_{opts.model_name}_{view}":
                    return opts.app_label, opts.model_name, view
    return None


def may(actor: str, model: str, code: str, where: str | None) -> bool:
    """Whether a role the actor holds (in ``where``, or anywhere) gives ``code``."""
    return any(
        code in ROLES[model][role.value]
        for org, role in ROLES_OF.get(actor, {}).items()
        if where is None or org == where
    )


def stock_expectation(app: str, model: str, view: str, actor: str) -> str:
    """What Django's stock views answer, in the order they check: the permission for any
    row first (403), then whether the row is in the caller's list (else the "does not
    exist" redirect to the index), then the permission for this row."""
    if actor == "anonymous":
        return "login"
    if app in LIBRARY_APPS:  # no staff role has any permission there; no such row
        return "index" if view == "history" else "denied"
    sees_anywhere = may(actor, model, "v", None) or may(actor, model, "c", None)
    sees_acme = may(actor, model, "v", "acme") or may(actor, model, "c", "acme")
    if view == "changelist":
        return "ok" if sees_anywhere else "denied"
    if view == "add":
        return "ok" if may(actor, model, "a", None) else "denied"
    if view == "history":
        return "ok" if sees_acme else "index"
    if view == "delete":
        if not may(actor, model, "d", None):
            return "denied"
        if not sees_acme:
            return "index"
        return "ok" if may(actor, model, "d", "acme") else "denied"
    if not sees_anywhere:  # change
        return "denied"
    return "ok" if sees_acme else "index"  # read only without the change permission


def test_every_url_has_a_row():
    missing = {name for name in all_url_names() if name not in CUSTOM and not stock_name(name)}
    assert missing == set()


def test_the_table_is_what_the_role_groups_grant(db):
    """The docs print ROLES; the groups the migrations made must say the same."""
    for role, group_name in ROLE_GROUPS.items():
        granted = set(
            Group.objects.get(name=group_name)
            .permissions.filter(content_type__app_label="sessions_app")
            .values_list("codename", flat=True)
        )
        for model, roles in ROLES.items():
            for code, action in CODES.items():
                assert (f"{action}_{model}" in granted) == (code in roles[role.value]), (
                    role,
                    model,
                    action,
                )


@dataclass
class World:
    acme: object
    globex: object
    users: dict
    ids: dict


@pytest.fixture
def world(db):
    acme, globex = make_org("Acme"), make_org("Globex")
    mixed = staff(globex.event.organisation, MemberRole.ORGANISER, username="mixed")
    mixed.groups.add(Group.objects.get(name="Reviewers"))
    from sessions_app.models import Membership

    Membership.objects.create(
        organisation=acme.event.organisation, user=mixed, role=MemberRole.REVIEWER
    )
    event = acme.event
    speaker = Speaker.objects.create(event=event, first_name="Grace", email="g@example.org")
    registrant = factories.registrant(event=event)
    field = factories.custom_field(event=event)
    slot = BlockedSlot.objects.create(
        event=event, starts_at=acme.held.starts_at, ends_at=acme.held.ends_at
    )
    template = MessageTemplate.objects.create(
        event=event, kind=NoticeKind.SPEAKER_APPROVED, subject="Hi {name}", body="Hello {name}"
    )
    message = factories.message(event=event, speaker=speaker)
    api_client = factories.api_client(organisation=event.organisation)
    webhook, _secret = subscriptions.webhook_create(
        organisation_id=event.organisation_id,
        data={"url": "https://hooks.example.com/in", "events": ["*"]},
    )
    services.session_update(
        session_id=acme.held.pk, data={"name": "Acme keynote, renamed"}, actor=services.SYSTEM
    )
    from sessions_app.webhooks import outbox

    outbox.fan_out()
    delivery = WebhookDelivery.objects.get()
    proposal = ScheduleProposal.objects.create(event=event)
    export = ExportJob.objects.create(
        created_by=acme.organiser,
        event_ids=[event.pk],
        file_format="csv",
        total=0,
        filename="x.csv",
    )
    imports = {
        kind: ImportJob.objects.create(
            kind=kind, event=event, created_by=acme.organiser, rows=[], total=0
        )
        for kind in ("sessions", "registrants")
    }
    ids = {
        "session": acme.held.pk,
        "event": event.pk,
        "track": acme.track.pk,
        "sessiontype": SessionType.objects.create(event=event, name="Talk", default_minutes=30).pk,
        **committee_ids(acme),
        "callforproposals": CallForProposals.objects.create(
            event=event, opens_at=timezone.now(), closes_at=timezone.now() + dt.timedelta(days=1)
        ).pk,
        "location": acme.room.pk,
        "customfield": field.pk,
        "speaker": speaker.pk,
        "blockedslot": slot.pk,
        "messagetemplate": template.pk,
        "message": message.pk,
        "registrant": registrant.pk,
        "apiclient": api_client.pk,
        "webhooksubscription": webhook.pk,
        "webhookdelivery": delivery.pk,
        "privacyrequest": PrivacyRequest.objects.create(
            organisation=event.organisation, kind="export", requested_by="x"
        ).pk,
        "organisation": event.organisation_id,
        "staffsignin": StaffSignIn.objects.create(organisation=event.organisation).pk,
        "proposal": proposal.pk,
        "export": export.pk,
        "import_sessions": imports["sessions"].pk,
        "import_registrants": imports["registrants"].pk,
    }
    users = {
        "reviewer": acme.reviewer,
        "organiser": acme.organiser,
        "other": globex.organiser,
        "mixed": mixed,
    }
    return World(acme, globex, users, ids)


def committee_ids(acme) -> dict[str, int]:
    """Acme's programme committee: settings, a criterion, its reviewer on it, and the
    proposal given to them."""
    now = timezone.now()
    settings = ReviewSettings.objects.create(
        event=acme.event, opens_at=now, closes_at=now + dt.timedelta(days=1)
    )
    criterion = ReviewCriterion.objects.create(event=acme.event, name="Relevance")
    member = Reviewer.objects.create(event=acme.event, user=acme.reviewer)
    assignment = ReviewAssignment.objects.create(session=acme.proposal, reviewer=acme.reviewer)
    return {
        "reviewsettings": settings.pk,
        "reviewcriterion": criterion.pk,
        "reviewer": member.pk,
        "reviewassignment": assignment.pk,
        "proposal_session": acme.proposal.pk,
    }


def classify(response) -> str:
    if response.status_code == 302:
        where = response["Location"]
        if where.startswith(("/admin/login/", "/accounts/login/")):
            return "login"
        if where == "/admin/":
            return "index"
        return "ok"
    return {200: "ok", 403: "denied", 404: "gone"}.get(
        response.status_code, str(response.status_code)
    )


def request_for(world: World, name: str) -> tuple[str, str, dict, str | None]:
    """(method, path, data, content type) for a URL name, naming Acme's objects."""
    ids = world.ids
    stock = stock_name(name)
    if stock is not None:
        app, model, view = stock
        if view in ("changelist", "add"):
            return "GET", reverse(f"admin:{name}"), {}, None
        pk = ids.get(model, 987654) if app == "sessions_app" else 987654
        return "GET", reverse(f"admin:{name}", args=[pk]), {}, None
    event, session = ids["event"], ids["session"]
    session_version = world.acme.held.__class__.objects.get(pk=session).version

    def get_one(pk):
        return "GET", reverse(f"admin:{name}", args=[pk]), {}, None

    special = {
        "view_on_site": lambda: ("GET", reverse("admin:view_on_site", args=[1, session]), {}, None),
        "app_list": lambda: ("GET", reverse("admin:app_list", args=["sessions_app"]), {}, None),
        "auth_user_password_change": lambda: (
            "GET",
            reverse(f"admin:{name}", args=[world.users["organiser"].pk]),
            {},
            None,
        ),
        "autocomplete": lambda: (
            "GET",
            reverse("admin:autocomplete"),
            {"app_label": "sessions_app", "model_name": "session", "field_name": "track"},
            None,
        ),
        "sessions_app_session_schedule": lambda: (
            "GET",
            reverse(f"admin:{name}"),
            {"event": event},
            None,
        ),
        "sessions_app_session_schedule_state": lambda: (
            "GET",
            reverse(f"admin:{name}"),
            {"event": event, "day": world.acme.event.start_date.isoformat()},
            None,
        ),
        "sessions_app_session_schedule_move": lambda: (
            "POST",
            reverse(f"admin:{name}"),
            json.dumps({"id": session, "version": session_version, "pinned": True}),
            "application/json",
        ),
        "sessions_app_session_schedule_suggest": lambda: (
            "POST",
            reverse(f"admin:{name}"),
            {"event": event},
            None,
        ),
        "sessions_app_session_schedule_proposal": lambda: (
            "POST",
            reverse(f"admin:{name}", args=[ids["proposal"]]),
            {"action": "cancel"},
            None,
        ),
        "sessions_app_session_status": lambda: (
            "POST",
            reverse(f"admin:{name}", args=[ids["session"]]),
            {"status": "rejected", "version": session_version},
            None,
        ),
        "sessions_app_session_attendees": lambda: get_one(session),
        "sessions_app_review_form": lambda: get_one(ids["proposal_session"]),
        "sessions_app_review_compare": lambda: ("GET", reverse(f"admin:{name}"), {}, None),
        "sessions_app_review_abstain": lambda: (
            "POST",
            reverse(f"admin:{name}", args=[ids["proposal_session"]]),
            {},
            None,
        ),
        "sessions_app_review_committee": lambda: (
            "GET",
            reverse(f"admin:{name}"),
            {"event": event},
            None,
        ),
        "sessions_app_review_export": lambda: (
            "GET",
            reverse(f"admin:{name}"),
            {"event": event},
            None,
        ),
        "sessions_app_review_decide": lambda: (
            "POST",
            reverse(f"admin:{name}"),
            {"event": event, "top": "1"},
            None,
        ),
        "sessions_app_session_export_job": lambda: (
            "GET",
            reverse(f"admin:{name}", args=[ids["export"]]),
            {},
            None,
        ),
        "sessions_app_session_export_file": lambda: (
            "GET",
            reverse(f"admin:{name}", args=[ids["export"]]),
            {},
            None,
        ),
        "sessions_app_session_import_job": lambda: (
            "GET",
            reverse(f"admin:{name}", args=[ids["import_sessions"]]),
            {},
            None,
        ),
        "sessions_app_registrant_import_job": lambda: (
            "GET",
            reverse(f"admin:{name}", args=[ids["import_registrants"]]),
            {},
            None,
        ),
        "sessions_app_speaker_event_autocomplete": lambda: get_one(event),
    }
    if name in special:
        return special[name]()
    return CUSTOM[name][0], reverse(f"admin:{name}"), {}, None


def answer(world: World, actor: str, name: str) -> str:
    client = Client()
    if actor != "anonymous":
        client.force_login(world.users[actor])
    method, path, data, content_type = request_for(world, name)
    if method == "GET":
        response = client.get(path, data)
    elif content_type:
        response = client.post(path, data, content_type=content_type)
    else:
        response = client.post(path, data)
    if name == "sessions_app_session_export_file" and response.status_code == 404:
        # The export has no file yet: answered only after the check of who may see it.
        return "ok" if actor == "organiser" else "gone"
    return classify(response)


def expected(name: str, actor: str) -> str:
    stock = stock_name(name)
    if stock is not None:
        return stock_expectation(*stock, actor)
    _method, answers = CUSTOM[name]
    return answers.get(actor, "login")


URL_NAMES = sorted(all_url_names())


@pytest.mark.parametrize("name", URL_NAMES)
def test_each_url_answers_each_caller_as_the_table_says(world, name):
    answers = {actor: answer(world, actor, name) for actor in ACTORS}
    assert answers == {actor: expected(name, actor) for actor in ACTORS}


# --- actions ------------------------------------------------------------------------------

# Every action of every admin: the permission it is declared with (scoped_action), which
# decides who runs it on which rows.
ACTIONS = {
    "session": {  # no bulk delete: the stock one would skip the services
        "approve_selected": "review",
        "reject_selected": "review",
        "publish_selected": "review",
        "unpublish_selected": "review",
        "suggest_for_selected": "change",
        "pin_selected": "change",
        "unpin_selected": "change",
        "ask_speakers_to_confirm": "change",
    },
    "message": {  # never deleted: discarded, so that the log stays
        "send_selected": "change",
        "discard_selected": "change",
        "retry_selected": "change",
    },
    "registrant": {
        "delete_selected": "delete",
        "reset_page_links": "change",
        "send_welcome": "change",
    },
    "apiclient": {
        "delete_selected": "delete",
        "revoke_tokens": "change",
        "disable_clients": "change",
        "issue_new_secret": "change",
    },
    "webhooksubscription": {"delete_selected": "delete", "issue_new_secret": "change"},
    "webhookdelivery": {"send_again": "change"},
    "privacyrequest": {},  # the audit trail: nothing to do to its rows
    "review": {},  # the queue, not a list of rows
    "reviewassignment": {},  # reassigned one at a time, on its page
    **{
        model: {"delete_selected": "delete"}
        for model in (
            "event",
            "track",
            "sessiontype",
            "callforproposals",
            "reviewcriterion",
            "reviewer",
            "reviewsettings",
            "location",
            "customfield",
            "speaker",
            "blockedslot",
            "messagetemplate",
            "organisation",
            "staffsignin",
        )
    },
}


def our_admins():
    return {
        model._meta.model_name: model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == "sessions_app"
    }


def test_every_action_is_scoped_and_has_a_row(rf, superuser):
    request = rf.get("/")
    request.user = superuser
    found = {}
    for model_name, model_admin in our_admins().items():
        found[model_name] = {}
        for name, (func, _name, _description) in model_admin.get_actions(request).items():
            assert hasattr(func, "scoped_permission"), f"{model_name}.{name} is not scoped"
            found[model_name][name] = func.scoped_permission
    assert found == ACTIONS


def action_outcome(world: World, actor: str, model: str, action: str) -> str:
    """ran (on Acme's row), refused (offered, but the row was left alone), none (not
    offered, or the row is not in the caller's list), denied (no list at all)."""
    client = Client()
    client.force_login(world.users[actor])
    path = reverse(f"admin:sessions_app_{model}_changelist")
    page = client.get(path)
    if page.status_code == 403:
        return "denied"
    offered = page.context["cl"].model_admin.get_actions(page.wsgi_request)
    if action not in offered:
        return "none"
    response = client.post(
        path, {"action": action, "_selected_action": [world.ids[model]], "index": 0}
    )
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    if any("left alone" in text for text in texts):
        return "refused"
    if any("Nothing to do" in text for text in texts):
        return "none"
    return "ran"


def action_expectation(actor: str, model: str, permission: str) -> str:
    code = {v: k for k, v in CODES.items()}[permission]
    sees_anywhere = may(actor, model, "v", None) or may(actor, model, "c", None)
    if not sees_anywhere:
        return "denied"
    if not may(actor, model, code, None):
        return "none"
    sees_acme = may(actor, model, "v", "acme") or may(actor, model, "c", "acme")
    if not sees_acme:
        return "none"
    return "ran" if may(actor, model, code, "acme") else "refused"


ACTION_ROWS = sorted(
    (model, action, permission)
    for model, actions in ACTIONS.items()
    for action, permission in actions.items()
)


@pytest.mark.parametrize(
    ("model", "action", "permission"),
    ACTION_ROWS,
    ids=[f"{m}.{a}" for m, a, _p in ACTION_ROWS],
)
def test_each_action_runs_only_where_the_role_allows(world, model, action, permission):
    callers = ["reviewer", "organiser", "other", "mixed"]
    # The one who may run it goes last: some actions delete or change the row.
    callers.sort(key=lambda a: action_expectation(a, model, permission) == "ran")
    answers = {actor: action_outcome(world, actor, model, action) for actor in callers}
    assert answers == {actor: action_expectation(actor, model, permission) for actor in callers}
