"""django-allauth's adapters: the product's rules for staff sign-in."""

from __future__ import annotations

import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.utils import is_mfa_enabled
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.template.response import TemplateResponse

from sessions_app.accounts import sso
from sessions_app.webhooks.sealing import seal, unseal

# The backend that keeps each role's permissions apart (sessions_app.admin.roles): the one a
# session signed in by single sign-on or a passkey is bound to.
STAFF_BACKEND = "sessions_app.admin.roles.RoleBackend"


class StaffAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Staff accounts are made by organisers and superusers, or by single sign-on.
        return False

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None and not user.is_superuser and sso.password_refused(user):
            raise forms.ValidationError(
                "Your organisation signs you in through its identity provider: use the "
                "single sign-on button below.",
                code="password_sign_in_off",
            )
        return user

    def login(self, request, user) -> None:
        if not hasattr(user, "backend"):
            user.backend = STAFF_BACKEND
        super().login(request, user)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth confirms who is there (password, or a second factor) before a change to
        the second factors. Someone who came in through single sign-on minutes ago and has
        neither can confirm with nothing: their first second factor goes ahead."""
        request = context.request
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.has_usable_password()
            and not is_mfa_enabled(user)
        ):
            records = get_authentication_records(request, user)
            recent = [
                r
                for r in records
                if r.get("method") == "socialaccount"
                and time.time() - r.get("at", 0) < account_settings.REAUTHENTICATION_TIMEOUT
            ]
            if recent:
                return False
        return super().is_reauthentication_required(app=app, **kwargs)


class SingleSignOnAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        # The providers are the organisations' own (StaffSignIn), not SocialApp rows.
        return sso.apps(provider=provider, client_id=client_id)

    def pre_social_login(self, request, sociallogin) -> None:
        config = sso.config_for(sociallogin.account.provider)
        email = (sociallogin.user.email or "").strip()
        if config is None or not email or not config.admits(email):
            raise ImmediateHttpResponse(
                TemplateResponse(
                    request,
                    "account/sso_refused.html",
                    {"organisation": config.organisation if config else None, "email": email},
                    status=403,
                )
            )

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return True  # pre_social_login has let only the organisation's domains through


class SecondFactorAdapter(DefaultMFAAdapter):
    """TOTP secrets are sealed at rest, as webhook secrets are."""

    def encrypt(self, text: str) -> str:
        return seal(text)

    def decrypt(self, encrypted_text: str) -> str:
        return unseal(encrypted_text)

    def send_notification_mail(self, *args, **kwargs) -> None:
        # Staff accounts need not have an email address; the audit trail records sign-ins.
        return None
