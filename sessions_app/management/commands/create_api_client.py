"""Create an OAuth2 API client for an organisation and print its credentials once."""

import json

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.db import transaction

from sessions_app.enums import MemberRole
from sessions_app.models import Organisation
from sessions_app.services.clients import api_client_create, known_scopes


class Command(BaseCommand):
    help = (
        "Create an API client (OAuth2 client credentials) that belongs to one organisation, "
        "creating the organisation if it does not exist yet. Prints one JSON object on "
        'stdout: {"client_id", "client_secret", "organisation", "scopes"}. The secret is '
        "stored hashed: this is the only time it is shown."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--organisation",
            required=True,
            metavar="SLUG",
            help="Slug of the organisation whose events the client may see, e.g. demo.",
        )
        parser.add_argument(
            "--name", required=True, help="A name to recognise the client by, e.g. 'CRM sync'."
        )
        parser.add_argument(
            "--scopes",
            default="sessions:read sessions:write",
            help=(
                "Space-separated scopes the client may ask for (default: %(default)r). "
                "sessions:read reads; sessions:write is needed for every write; "
                "registrants:read and registrants:write reach registrants and their seats "
                "(personal data: ask for them only where needed). Known: "
                + ", ".join(known_scopes())
                + "."
            ),
        )
        parser.add_argument(
            "--reviewer",
            metavar="USERNAME",
            help="Bind the client to a reviewer of the organisation: it then answers as they "
            "see (where they review blind, no speaker is named).",
        )
        parser.add_argument(
            "--organisation-name",
            help="Name for the organisation if it has to be created (default: the slug).",
        )

    def handle(self, *args, **options):
        slug = options["organisation"]
        try:
            validate_slug(slug)
        except ValidationError as exc:
            raise CommandError(f"--organisation {slug!r}: {exc.messages[0]}") from None
        name = options["name"].strip()
        if not name or "\x00" in name:
            raise CommandError("--name must not be empty.")
        scopes = options["scopes"].split()
        with transaction.atomic():
            organisation, created = Organisation.objects.get_or_create(
                slug=slug, defaults={"name": options["organisation_name"] or slug}
            )
            try:
                client, secret = api_client_create(
                    organisation=organisation, name=name, scopes=scopes
                )
            except (ValueError, ValidationError) as exc:
                message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
                raise CommandError(message) from None
            if options["reviewer"]:
                reviewer = (
                    get_user_model()
                    .objects.filter(
                        username=options["reviewer"],
                        memberships__organisation=organisation,
                        memberships__role=MemberRole.REVIEWER,
                    )
                    .first()
                )
                if reviewer is None:
                    raise CommandError(
                        f"--reviewer {options['reviewer'][:100]!r} is no reviewer of {slug!r}."
                    )
                client.reviewer = reviewer
                client.save(update_fields=["reviewer"])
        if created:
            self.stderr.write(f"Created organisation {slug!r}.")
        self.stdout.write(
            json.dumps(
                {
                    "client_id": client.client_id,
                    "client_secret": secret,
                    "organisation": organisation.slug,
                    "scopes": client.allowed_scopes,
                    "reviewer": client.reviewer.get_username() if client.reviewer else None,
                }
            )
        )
