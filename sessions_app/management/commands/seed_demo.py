"""Load the demo organisation, event, people and sessions; safe to run again."""

import datetime as dt
import time
import zoneinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from sessions_app import services
from sessions_app.enums import (
    ROLE_GROUPS,
    CustomFieldType,
    MemberRole,
    ProposedProgramme,
    SessionStatus,
)
from sessions_app.management.load_data import add_load_sessions
from sessions_app.models import (
    ApiClient,
    BlockedSlot,
    CallForProposals,
    CustomField,
    CustomFieldChoice,
    Event,
    Location,
    Membership,
    Organisation,
    ReviewAssignment,
    ReviewCriterion,
    Reviewer,
    ReviewSettings,
    SessionType,
    Track,
)
from sessions_app.models.reviews import ReviewScale
from sessions_app.notices import compose as notices
from sessions_app.services.clients import (
    api_client_create,
    api_client_set_secret,
    check_scopes,
    known_scopes,
)

DEMO_ORGANISATION = "demo"
DEMO_EVENT = "demo-conf"
DEMO_TIMEZONE = "Europe/Berlin"
# Demo credentials: printed on purpose, for a local demo only.
USERS = {
    "admin": {"password": "admin-demo-pass", "superuser": True, "roles": []},
    # The demo's organiser also reviews (a small event's organisers often do): they approve
    # the proposals that arrive through the call.
    "organiser": {
        "password": "organiser-demo-pass",
        "superuser": False,
        "roles": [MemberRole.ORGANISER, MemberRole.REVIEWER],
    },
    "reviewer": {
        "password": "reviewer-demo-pass",
        "superuser": False,
        "roles": [MemberRole.REVIEWER],
    },
    "reviewer2": {
        "password": "reviewer2-demo-pass",
        "superuser": False,
        "roles": [MemberRole.REVIEWER],
    },
    # On the programme committee without seeing who the speakers are.
    "blind-reviewer": {
        "password": "blind-reviewer-demo-pass",
        "superuser": False,
        "roles": [MemberRole.REVIEWER],
    },
}
# A ready API client for the demo organisation. Fixed and printed on purpose so a new user
# can copy the curl line; its secret is set again on every run (stored hashed).
DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret-for-local-use-only"

TRACKS = [("Product", "#2563eb"), ("Engineering", "#16a34a"), ("Community", "#d97706")]
LOCATIONS = [("Main Hall", None), ("Room A", 80), ("Room B", None), ("Workshop Lab", None)]

# (day, start, end, location index, track index, name, target status)
SESSIONS = [
    (0, "09:00", "10:00", 0, 0, "Opening keynote", "live"),
    (0, "10:30", "11:30", 0, 0, "Roadmap 2027", "live"),
    (0, "10:30", "11:15", 1, 1, "Scaling Django at the edge", "live"),
    (0, "11:30", "12:30", 1, 1, "Database constraints that save you", "converted"),
    (0, "10:30", "12:00", 2, 2, "Community organisers roundtable", "approved"),
    (0, "13:30", "15:00", 3, 1, "Hands-on: testing with real browsers", "approved"),
    (0, "13:30", "14:30", 0, 0, "Pricing experiments", "live"),
    (0, "15:00", "16:00", 0, 2, "Lightning talks", "submitted"),
    (0, "10:45", "11:45", 0, 1, "Clashing proposal: async ORM", "submitted"),
    (1, "09:00", "10:00", 0, 0, "Day two welcome", "live"),
    (1, "10:00", "11:00", 1, 1, "Time zones are hard", "approved"),
    (1, "11:00", "12:00", 1, 1, "Half-open intervals explained", "approved"),
    (1, "10:00", "12:00", 3, 1, "Workshop: OAuth2 client credentials", "converted"),
    (1, "13:00", "14:00", 2, 2, "Mentoring circles", "submitted"),
    (1, "14:00", "15:00", 2, 0, "Customer panel", "rejected"),
    (1, "15:30", "16:30", 0, 0, "Design systems in practice", "submitted"),
    (1, "10:30", "11:30", 1, 2, "Clashing proposal: meetup growth", "submitted"),
    (1, "16:30", "17:30", 0, 2, "Community awards", "approved"),
    (2, "09:00", "09:45", 0, 0, "Final day kickoff", "live"),
    (2, "10:00", "11:00", 0, 1, "Observability for small teams", "submitted"),
    (2, "10:00", "11:00", 1, 1, "Writing migrations that never lock", "approved"),
    (2, "11:00", "12:30", 3, 1, "Workshop: property-based testing", "approved"),
    (2, "13:00", "14:00", 2, 2, "Open source sustainability", "rejected"),
    (2, "14:00", "15:00", 0, 0, "Closing keynote", "approved"),
    (2, "15:00", "15:30", 0, 2, "Farewell", "submitted"),
    (None, None, None, None, 2, "Unscheduled: hallway track ideas", "submitted"),
    (None, None, None, None, 0, "Unscheduled: product clinic", "submitted"),
    (None, None, None, None, 1, "Unscheduled: code review dojo", "rejected"),
    (0, "16:00", "17:00", 2, 1, "Security office hours", "submitted"),
    (2, "09:00", "10:00", 2, 2, "Volunteer briefing", "converted"),
    # Accepted, with no time yet: the proposed programme registrants mark interest in, and
    # what a schedule suggestion places.
    (None, None, None, None, 1, "Accessible venues, step by step", "approved"),
    (None, None, None, None, 1, "Check-in for ten thousand", "approved"),
    (None, None, None, None, 2, "Sponsors without the awkwardness", "approved"),
    (None, None, None, None, 0, "What attendees really want", "approved"),
]
# The demo's speakers (first, last, company, job title) and who speaks where, by session
# name. Nobody is in two places at once among the held sessions; the async ORM proposal
# double-books Priya (and her room), so approving it is refused and the grid flags it.
SPEAKERS = [
    ("Amara", "Okafor", "Northwind Events", "CEO"),
    ("Priya", "Raman", "Northwind Events", "Head of Product"),
    ("Jonas", "Berg", "Fjord Cloud", "Staff Engineer"),
    ("Lucía", "Fernández", "Datawell", "Database Engineer"),
    ("Kenji", "Watanabe", "Meetup Guild", "Community Lead"),
    ("Sofia", "Rossi", "Meetup Guild", "Organiser"),
    ("Tomás", "Silva", "QA Works", "Test Engineer"),
    ("Hannah", "Schmidt", "Pricewise", "Growth Analyst"),
    ("Omar", "Haddad", "Chronos Labs", "Backend Developer"),
    ("Eleanor", "Price", "Identity Co", "Security Engineer"),
    ("Mateo", "García", "Propertyful", "Developer Advocate"),
    ("Grace", "Mwangi", "Open Source Fund", "Director"),
]
SESSION_SPEAKERS = {
    "Opening keynote": [0],
    "Roadmap 2027": [1],
    "Scaling Django at the edge": [2],
    "Database constraints that save you": [3],
    "Community organisers roundtable": [4, 5],
    "Hands-on: testing with real browsers": [6],
    "Pricing experiments": [7],
    "Clashing proposal: async ORM": [1, 2],
    "Day two welcome": [0],
    "Time zones are hard": [8],
    "Half-open intervals explained": [8],
    "Workshop: OAuth2 client credentials": [9],
    "Final day kickoff": [0],
    "Writing migrations that never lock": [3],
    "Workshop: property-based testing": [10],
    "Closing keynote": [11],
}
# The demo's session types (name, minutes) and its call's proposals from speakers:
# (email, first name, last name, title, type index, co-speakers, withdrawn).
SESSION_TYPES = [("Talk", 30), ("Workshop", 90)]
PROPOSALS = [
    (
        "ines@speakers.example.com", "Inès", "Moreau", "Offline-first agendas for bad Wi-Fi",
        0, ["kwame@speakers.example.com"], False,
    ),
    (
        "ravi@speakers.example.com", "Ravi", "Kapoor", "Rust for Pythonistas, hands on",
        1, [], False,
    ),
    ("ines@speakers.example.com", "Inès", "Moreau", "Accessible forms by default", 0, [], True),
]  # fmt: skip
# Registrants of the demo event (first name, last name); emails are first@example.com.
DEMO_REGISTRANTS = [
    ("Ada", "Lovelace"),
    ("Grace", "Hopper"),
    ("Alan", "Turing"),
    ("Katherine", "Johnson"),
    ("Linus", "Torvalds"),
    ("Margaret", "Hamilton"),
]
# How each target status is reached from ``submitted``, one allowed move at a time.
PATHS = {
    SessionStatus.SUBMITTED: [],
    SessionStatus.APPROVED: [SessionStatus.APPROVED],
    SessionStatus.REJECTED: [SessionStatus.REJECTED],
    SessionStatus.CONVERTED: [SessionStatus.APPROVED, SessionStatus.CONVERTED],
    SessionStatus.LIVE: [SessionStatus.APPROVED, SessionStatus.LIVE],
}


class Command(BaseCommand):
    help = (
        "Load demo data: the 'demo' organisation with a three-day event, tracks, locations, "
        "custom fields, about 30 sessions in every status, and the users admin, organiser "
        "and reviewer. Running it again changes nothing that exists."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the server will run, for the printed curl examples "
            "(default: http://127.0.0.1:8000).",
        )
        parser.add_argument(
            "--sessions",
            type=int,
            default=0,
            metavar="N",
            help="Also add N valid, non-clashing sessions in bulk over ten load test events "
            "of the demo organisation (for scale tests; each run adds N more). On PostgreSQL, "
            "requests that read sessions wait until the load commits.",
        )

    def handle(self, *args, **options):
        if options["sessions"] < 0:
            raise CommandError("--sessions takes a number of sessions, 0 or more.")
        with transaction.atomic():
            organisation, _ = Organisation.objects.get_or_create(
                slug=DEMO_ORGANISATION, defaults={"name": "Demo Events Ltd"}
            )
            users = self._users(organisation)
            event, created = self._event(organisation)
            if created:
                self._speakers(event)
                self._sessions(event, users["organiser"], users["reviewer"])
                self._lunch(event)
            else:
                self._speakers_from_custom_field(event, users["organiser"])
            if not event.registrants.exists():
                self._attendance(event, users["organiser"])
            if not CallForProposals.objects.filter(event=event).exists():
                self._call(event)
            if not ReviewSettings.objects.filter(event=event).exists():
                self._committee(event, users)
            self._api_client(organisation)
        if options["sessions"]:
            started = time.monotonic()
            total = add_load_sessions(organisation=organisation, count=options["sessions"])
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:  # planner statistics for the new rows
                    cursor.execute("ANALYZE sessions_app_session, sessions_app_sessionchange")
            self.stdout.write(
                f"Added {options['sessions']} sessions in {time.monotonic() - started:.1f} s; "
                f"the load test events hold {total}."
            )
        self._report(event)
        self._report_call(event, options["base_url"].rstrip("/"))
        self._report_registrant(event, options["base_url"].rstrip("/"))
        self._report_api_client(options["base_url"].rstrip("/"))

    def _users(self, organisation):
        user_model = get_user_model()
        users = {}
        for username, spec in USERS.items():
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@example.com",
                    "is_staff": True,
                    "is_superuser": spec["superuser"],
                },
            )
            if created:
                user.set_password(spec["password"])
                user.save()
            for role in spec["roles"]:
                Membership.objects.get_or_create(organisation=organisation, user=user, role=role)
                group = Group.objects.filter(name=ROLE_GROUPS[role]).first()
                if group is not None:
                    user.groups.add(group)
            users[username] = user
        return users

    def _event(self, organisation):
        existing = Event.objects.filter(organisation=organisation, slug=DEMO_EVENT).first()
        if existing is not None:
            return existing, False
        start = dt.date.today() + dt.timedelta(days=30)
        event = Event.objects.create(
            organisation=organisation,
            name="Demo Conference",
            slug=DEMO_EVENT,
            timezone=DEMO_TIMEZONE,
            proposed_programme=ProposedProgramme.INTEREST,
            # The docs site (make docs-serve) shows it embedded in a page of its own.
            embed_origins="http://127.0.0.1:8001\nhttp://localhost:8001",
            start_date=start,
            end_date=start + dt.timedelta(days=2),
        )
        for name, color in TRACKS:
            Track.objects.create(event=event, name=name, color=color)
        for name, capacity in LOCATIONS:
            Location.objects.create(event=event, name=name, capacity=capacity)
        self._custom_fields(event)
        return event, True

    def _custom_fields(self, event):
        specs = [
            ("Level", CustomFieldType.DROPDOWN, True, ["Beginner", "Intermediate", "Advanced"]),
            ("Recorded", CustomFieldType.CHECKBOX, False, []),
            ("Audience", CustomFieldType.MULTISELECT, False, ["Developers", "Managers", "Ops"]),
            ("Expected attendance", CustomFieldType.NUMBER, False, []),
            ("Slides due", CustomFieldType.DATE, False, []),
            ("Slides URL", CustomFieldType.URL, False, []),
            ("Speaker notes", CustomFieldType.TEXTAREA, False, []),
        ]
        for order, (label, field_type, required, choices) in enumerate(specs):
            field = CustomField.objects.create(
                event=event,
                label=label,
                field_type=field_type,
                required=required,
                sort_order=order,
            )
            for choice_order, choice in enumerate(choices):
                CustomFieldChoice.objects.create(field=field, label=choice, sort_order=choice_order)

    def _speakers(self, event):
        for first, last, company, job_title in SPEAKERS:
            services.speaker_create(
                event_id=event.pk,
                data={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{slugify(first)}@speakers.example.com",
                    "company": company,
                    "job_title": job_title,
                    "bio": f"{first} {last} is {job_title} at {company}.",
                },
            )

    def _speakers_from_custom_field(self, event, organiser):
        """Demo data from before speakers existed kept them in a "Speaker" text field: make
        each name a speaker of the event, put them on their sessions (recorded in the
        history), and retire the field."""
        field = event.custom_fields.filter(label="Speaker", field_type=CustomFieldType.TEXT)
        field = field.first()
        if field is None:
            return
        actor = services.Actor(user=organiser)
        made: dict[str, int] = {}
        for session in event.sessions.order_by("pk"):
            name = str((session.custom_fields or {}).get(field.key) or "").strip()
            data = {"custom_fields": {field.key: None}}
            if name:
                if name not in made:
                    first, _, last = name.partition(" ")
                    made[name] = services.speaker_create(
                        event_id=event.pk, data={"first_name": first, "last_name": last}
                    ).pk
                data["speaker_ids"] = [*(session.speaker_ids or []), made[name]]
                data["speaker_ids"] = list(dict.fromkeys(data["speaker_ids"]))
            services.session_update(session_id=session.pk, data=data, actor=actor)
        field.delete()
        self.stdout.write(f"Moved {len(made)} speaker name(s) from the custom field to speakers.")

    def _sessions(self, event, organiser, reviewer):
        tracks = list(event.tracks.order_by("pk"))
        locations = list(event.locations.order_by("pk"))
        fields = {f.label: f for f in event.custom_fields.prefetch_related("choices")}
        speakers = list(event.speakers.order_by("pk"))
        level_choices = list(fields["Level"].choices.all())
        audience_choices = list(fields["Audience"].choices.all())
        for index, (day, start, end, loc, track, name, target) in enumerate(SESSIONS):
            custom = {
                fields["Level"].key: [{"id": level_choices[index % 3].pk}],
                fields["Recorded"].key: index % 2,
                fields["Audience"].key: [{"id": audience_choices[index % 3].pk}],
            }
            data = {
                "name": name,
                "description": f"{name}: a demo session.",
                "track_id": tracks[track].pk if track is not None else None,
                "location_id": locations[loc].pk if loc is not None else None,
                "capacity": 60 if loc == 1 else None,
                "custom_fields": custom,
                "speaker_ids": [speakers[n].pk for n in SESSION_SPEAKERS.get(name, [])],
            }
            if day is not None:
                data["date"] = event.start_date + dt.timedelta(days=day)
                data["start_time"] = dt.time.fromisoformat(start)
                data["end_time"] = dt.time.fromisoformat(end)
            session = services.session_create(
                event=event, data=data, actor=services.Actor(user=organiser)
            )
            for status in PATHS[SessionStatus(target)]:
                services.session_set_status(
                    session_id=session.pk,
                    status=status,
                    actor=services.Actor(user=reviewer),
                    note="Demo data.",
                )

    def _call(self, event):
        """An open call with two session types, and a few proposals sent through it."""
        types = [
            SessionType.objects.get_or_create(
                event=event, name=name, defaults={"default_minutes": minutes}
            )[0]
            for name, minutes in SESSION_TYPES
        ]
        now = timezone.now()
        call = CallForProposals.objects.create(
            event=event,
            opens_at=now - dt.timedelta(days=14),
            closes_at=max(
                now + dt.timedelta(days=7),
                dt.datetime.combine(
                    event.start_date - dt.timedelta(days=7),
                    dt.time(23, 59),
                    tzinfo=zoneinfo.ZoneInfo(event.timezone),
                ),
            ),
            introduction=(
                "Demo Conference looks for talks and workshops about running events: "
                "schedules, rooms, people and the software between them.\n\n"
                "Talks are 30 minutes, workshops 90. We answer every proposal."
            ),
            abstract_min=50,
            abstract_max=2000,
            open_after=["description"],
        )
        call.session_types.set(types)
        call.tracks.set(event.tracks.all())
        asked = list(event.custom_fields.filter(label__in=["Level", "Audience"]))
        call.fields.set(asked)
        call.required_fields.set([f for f in asked if f.label == "Level"])
        level = event.custom_fields.get(label="Level")
        beginner = level.choices.order_by("sort_order").first()
        tracks = list(event.tracks.order_by("pk"))
        for index, (email, first, last, title, kind, others, withdrawn) in enumerate(PROPOSALS):
            session, _speaker, _others = services.proposal_submit(
                call=call,
                email=email,
                profile={"first_name": first, "last_name": last, "bio": f"{first} speaks."},
                data={
                    "name": title,
                    "description": f"{title}: what we learnt, what broke, and what to do "
                    "about it, with examples from real events.",
                    "session_type_id": types[kind].pk,
                    "track_id": tracks[index % len(tracks)].pk,
                    "custom_fields": {level.key: [{"id": beginner.pk}]},
                },
                co_speakers=others,
            )
            if withdrawn:
                services.proposal_withdraw(
                    user=services.proposals.speaker_account(email), session_id=session.pk
                )

    def _committee(self, event, users):
        """Reviews of the submitted proposals: three criteria, three reviewers (one blind),
        each proposal given to two, and some reviews (a lenient and a harsh reviewer)."""
        now = timezone.now()
        ReviewSettings.objects.create(
            event=event,
            opens_at=now - dt.timedelta(days=7),
            closes_at=now + dt.timedelta(days=14),
            reviewers_per_proposal=2,
        )
        criteria = [
            ReviewCriterion.objects.create(
                event=event, name=name, weight=weight, scale=scale, position=position
            )
            for position, (name, weight, scale) in enumerate(
                [
                    ("Relevance", 2, ReviewScale.FIVE),
                    ("Clarity", 1, ReviewScale.FIVE),
                    ("Fits the audience", 1, ReviewScale.YES_NO),
                ]
            )
        ]
        for username, blind in (
            ("reviewer", False),
            ("reviewer2", False),
            ("blind-reviewer", True),
        ):
            Reviewer.objects.create(event=event, user=users[username], blind=blind)
        services.assign_reviewers(event_id=event.pk)
        # The first few proposals reviewed: reviewer2 gives a point more than reviewer.
        lenient = {"reviewer": 0, "reviewer2": 1}
        assignments = (
            ReviewAssignment.objects.filter(session__event=event, reviewer__username__in=lenient)
            .select_related("reviewer")
            .order_by("session_id", "reviewer_id")
        )
        for index, assignment in enumerate(assignments[:8]):
            base = 2 + (assignment.session_id * 7) % 3
            score = min(5, base + lenient[assignment.reviewer.username])
            services.review_save(
                user=assignment.reviewer,
                session_id=assignment.session_id,
                scores={
                    str(criteria[0].pk): score,
                    str(criteria[1].pk): max(1, score - 1),
                    str(criteria[2].pk): index % 2,
                },
                comment="Demo review.",
                speaker_comment="Thank you for proposing this." if index % 3 == 0 else "",
            )

    def _lunch(self, event):
        """Lunch, 12:30 to 13:00, blocks every room each day (the grid draws it; a held
        session cannot be moved into it)."""
        zone = zoneinfo.ZoneInfo(event.timezone)
        day = event.start_date
        while day <= event.end_date:
            BlockedSlot.objects.create(
                event=event,
                label="Lunch",
                starts_at=dt.datetime.combine(day, dt.time(12, 30), tzinfo=zone),
                ends_at=dt.datetime.combine(day, dt.time(13, 0), tzinfo=zone),
            )
            day += dt.timedelta(days=1)

    def _attendance(self, event, organiser):
        """Registrants whose seats show every rule: an included keynote, a default session,
        a full session with a waitlist, a locked one, and a conflict-guarded pair."""
        staff = services.Actor(user=organiser)
        by_name = {s.name: s for s in event.sessions.all()}
        settings = {
            "Opening keynote": {"selection_control": "included"},
            "Final day kickoff": {"selected_by_default": True},
            "Pricing experiments": {
                "capacity": 3,
                "sold_out_message": "Full: the recording is online on Friday.",
            },
            "Day two welcome": {"locked_when_saved": True},
            "Roadmap 2027": {"prevent_session_conflicts": True},
            "Scaling Django at the edge": {"prevent_session_conflicts": True},
        }
        for name, data in settings.items():
            if name in by_name:
                services.session_update(session_id=by_name[name].pk, data=data, actor=staff)
        people = {}
        for first, last in DEMO_REGISTRANTS:
            email = f"{first.lower()}@example.com"
            people[first] = services.registrant_create(
                event_id=event.pk,
                data={"first_name": first, "last_name": last, "email": email},
                actor=staff,
            )
        # Ada's welcome, with the link to her page: the worker prints it under `make run`.
        notices.welcome(people["Ada"])
        # Interest in the proposed programme (no seats): the demand the grid shows.
        interests = [
            ("Grace", "Accessible venues, step by step"),
            ("Grace", "Check-in for ten thousand"),
            ("Alan", "Accessible venues, step by step"),
            ("Alan", "Check-in for ten thousand"),
            ("Katherine", "Sponsors without the awkwardness"),
            ("Linus", "What attendees really want"),
        ]
        picks = [
            *((first, name, False) for first, name in interests),
            ("Grace", "Pricing experiments", False),
            ("Alan", "Pricing experiments", False),
            ("Katherine", "Pricing experiments", False),
            ("Linus", "Pricing experiments", True),
            ("Margaret", "Pricing experiments", True),
            ("Ada", "Day two welcome", False),
            ("Ada", "Roadmap 2027", False),
            ("Grace", "Scaling Django at the edge", False),
        ]
        for first, session_name, waitlist in picks:
            if session_name in by_name:
                services.selection_add(
                    registrant_id=people[first].pk,
                    session_id=by_name[session_name].pk,
                    actor=services.Actor(registrant=people[first]),
                    waitlist=waitlist,
                )

    def _report_registrant(self, event, base_url: str):
        registrant = event.registrants.filter(email="ada@example.com").first()
        if registrant is None:
            return
        count = event.registrants.count()
        self.stdout.write("")
        self.stdout.write(
            f"{count} demo registrants. Ada's own page, where she picks sessions (no login):"
        )
        self.stdout.write(f"  {base_url}{registrant.get_selection_path()}")

    def _api_client(self, organisation):
        client = ApiClient.objects.filter(client_id=DEMO_CLIENT_ID).first()
        if client is None:
            api_client_create(
                organisation=organisation,
                name="Demo API client",
                scopes=known_scopes(),
                client_id=DEMO_CLIENT_ID,
                secret=DEMO_CLIENT_SECRET,
            )
            return
        client.organisation = organisation
        client.scopes = " ".join(check_scopes(known_scopes()))
        client.client_type = ApiClient.CLIENT_CONFIDENTIAL
        client.authorization_grant_type = ApiClient.GRANT_CLIENT_CREDENTIALS
        client.save(
            update_fields=["organisation", "scopes", "client_type", "authorization_grant_type"]
        )
        api_client_set_secret(client, DEMO_CLIENT_SECRET)  # works again even if disabled

    def _report_call(self, event, base_url: str):
        self.stdout.write("")
        self.stdout.write("Call for proposals (speakers propose here, no account needed):")
        self.stdout.write(f"  {base_url}/cfp/{event.organisation.slug}/{event.slug}/")
        self.stdout.write(
            f"Speakers sign in at {base_url}/speaker/sign-in/ with their email address; the "
            "one-time link is printed in this terminal by the worker (the console email)."
        )

    def _report_api_client(self, base_url: str):
        self.stdout.write("")
        self.stdout.write(
            "Demo API client (organisation 'demo', scopes " + " ".join(known_scopes()) + "):"
        )
        self.stdout.write(f"  client_id     {DEMO_CLIENT_ID}")
        self.stdout.write(f"  client_secret {DEMO_CLIENT_SECRET}")
        self.stdout.write(f"Get a token, then list sessions (server at {base_url}):")
        self.stdout.write(
            f"  curl -s -u {DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET} "
            f"-d grant_type=client_credentials {base_url}/oauth2/token"
        )
        self.stdout.write(
            f'  curl -s -H "Authorization: Bearer <access_token>" {base_url}/api/v1/sessions'
        )

    def _report(self, event):
        count = event.sessions.count()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready: {event.name} with {count} sessions.")
        )
        self.stdout.write("Log in to the admin with one of these demo accounts:")
        for username, spec in USERS.items():
            role = "superuser" if spec["superuser"] else ", ".join(spec["roles"])
            self.stdout.write(f"  {username:<14} / {spec['password']:<24} ({role})")
        if settings.SUPERUSER_SECOND_FACTOR:
            self.stdout.write(
                "  admin is a superuser: at its first sign-in it is asked to set up a second "
                "factor (an authenticator app or a passkey) before anything else."
            )
