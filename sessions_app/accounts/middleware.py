"""A staff member who must have a second factor and has none sets one up before anything
else: every page but the account pages (where they set it up or sign out) sends them there.

Whether they must is decided at sign-in (``receivers``) and kept in the session, so a
request pays nothing for it; an organisation that starts requiring a second factor reaches
its members at their next sign-in.
"""

from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from sessions_app.accounts.receivers import SETUP_NEEDED

_FREE = ("/accounts/", "/static/")


class SecondFactorSetupMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only a request that carries a session cookie can be signed in: the others (the
        # agenda's crowd, the API) leave the session untouched, so no Vary: Cookie.
        session = getattr(request, "session", None)
        if (
            session is not None
            and settings.SESSION_COOKIE_NAME in request.COOKIES
            and session.get(SETUP_NEEDED)
            and not request.path.startswith(_FREE)
            and request.user.is_authenticated
        ):
            if is_mfa_enabled(request.user):  # set up, here or in another session
                del session[SETUP_NEEDED]
                return self.get_response(request)
            messages.warning(
                request,
                "Your account needs a second factor before you go on: add an authenticator "
                "app or a passkey.",
            )
            return HttpResponseRedirect(reverse("mfa_index"))
        return self.get_response(request)
