"""How an organisation's staff sign in: with a second factor or not, with a password or only
through the organisation's own identity provider (OpenID Connect single sign-on).

One row per organisation, managed by its organisers. The provider's client secret is sealed
as webhook secrets are (we must send it to the provider, so it cannot be hashed). Who may
come in through the provider is said by the email domains; which role they hold by
``default_role``, or by a claim of the provider's ID token when ``role_claim`` names one.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models

from sessions_app.enums import MemberRole
from sessions_app.models.events import Organisation
from sessions_app.models.fields import one_line


class StaffSignIn(models.Model):
    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="staff_sign_in"
    )
    require_second_factor = models.BooleanField(
        default=False,
        help_text="Staff of this organisation must sign in with a second factor (an "
        "authenticator app or a passkey) as well as their password or single sign-on; a "
        "member without one is asked to set it up at their next sign-in.",
    )
    password_sign_in = models.BooleanField(
        default=True,
        help_text="Members may sign in with a local password. Turn off to let them in "
        "through the organisation's identity provider only (needs single sign-on).",
    )
    single_sign_on = models.BooleanField(
        default=False, help_text="Staff sign in through the identity provider below."
    )
    issuer = models.URLField(
        blank=True,
        help_text="The provider's issuer URL; its discovery document is read from "
        "<issuer>/.well-known/openid-configuration.",
    )
    client_id = models.CharField(max_length=255, blank=True, validators=[one_line])
    # Fernet-sealed (sessions_app.webhooks.sealing); never shown again once saved.
    client_secret_sealed = models.TextField(blank=True, editable=False)
    email_domains = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated email domains whose users the provider may sign in "
        "(e.g. acme.example, acme-events.example); anyone else gets no membership.",
    )
    default_role = models.CharField(
        max_length=20, choices=MemberRole.choices, default=MemberRole.REVIEWER
    )
    role_claim = models.CharField(
        max_length=100,
        blank=True,
        validators=[one_line],
        help_text="Optional: an ID token claim (e.g. roles or groups) whose values "
        "'organiser' and 'reviewer' give those roles; without it, the default role.",
    )

    class Meta:
        verbose_name = "staff sign-in"
        verbose_name_plural = "staff sign-in"

    def __str__(self) -> str:
        return f"Staff sign-in of {self.organisation}"

    @property
    def provider_id(self) -> str:
        """The name of this provider in the sign-in URLs (/accounts/oidc/<id>/login/)."""
        return f"org-{self.organisation.slug}"

    def domain_list(self) -> list[str]:
        return [
            part.strip().lower().lstrip("@")
            for part in self.email_domains.split(",")
            if part.strip()
        ]

    def admits(self, email: str) -> bool:
        domain = email.rpartition("@")[2].lower()
        return bool(domain) and domain in self.domain_list()

    def clean(self) -> None:
        errors = {}
        domains = self.domain_list()
        if any("." not in d or "@" in d or " " in d for d in domains):
            errors["email_domains"] = "Give domains such as acme.example, separated by commas."
        if self.single_sign_on:
            for name in ("issuer", "client_id"):
                if not getattr(self, name):
                    errors.setdefault(name, "Needed for single sign-on.")
            if not domains:
                errors.setdefault("email_domains", "Name at least one email domain.")
        if (
            self.issuer
            and urlsplit(self.issuer).scheme != "https"
            and (urlsplit(self.issuer).hostname not in {"localhost", "127.0.0.1", "::1"})
        ):
            errors["issuer"] = "The issuer must be an https:// URL."
        if not self.password_sign_in and not self.single_sign_on:
            errors["password_sign_in"] = (
                "Without single sign-on, staff need their password to sign in."
            )
        if errors:
            raise ValidationError(errors)
