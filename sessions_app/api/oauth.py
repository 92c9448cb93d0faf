"""The OAuth2 side: per-client scopes and the token, revocation and introspection endpoints.

The endpoints are django-oauth-toolkit's own views; they are wrapped only so that their
errors are problem documents too (keeping RFC 6749's ``error`` members for OAuth
libraries) and so that introspection never describes another client's token.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as dot_views
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.scopes import SettingsScopes
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request as OauthlibRequest

from sessions_app.ops import ratelimit
from sessions_app.ops.client_address import client_ip
from sessions_app.wire.problems import PROBLEM_CONTENT_TYPE, plain_problem_response, problem_body


class ApiClientScopes(SettingsScopes):
    """A client may ask only for the scopes on its record; asking for none gets all of them."""

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        known = list(oauth2_settings._SCOPES)
        if application is None:
            return known
        allowed = set(getattr(application, "allowed_scopes", known))
        return [scope for scope in known if scope in allowed]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)


def oauth_problem(response):
    """Turn an RFC 6749 error answer into a problem document that keeps ``error``."""
    if response.status_code < 400 or response.get("Content-Type", "").startswith(
        PROBLEM_CONTENT_TYPE
    ):
        return response
    try:
        payload = json.loads(response.content or b"{}")
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    error = payload.get("error")
    detail = payload.get("error_description") or (
        f"OAuth2 error: {error}." if error else "The request was refused."
    )
    extra = {key: payload[key] for key in ("error", "error_description") if key in payload}
    response.content = json.dumps(problem_body(response.status_code, detail, **extra))
    response["Content-Type"] = PROBLEM_CONTENT_TYPE
    return response


def _basic_credentials(request) -> str | None:
    """The decoded ``client_id:client_secret`` of an HTTP Basic header, unchecked."""
    scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        return unquote_plus(base64.b64decode(encoded.strip(), validate=True).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None  # not credentials at all: DOT refuses them as such


def _form(request) -> dict[str, str]:
    content_type = request.META.get("CONTENT_TYPE", "")
    if request.method == "POST" and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        # A malformed multipart body raises here, and Django answers 400 as it would have.
        return request.POST
    return {}


def _client_id(request) -> str | None:
    """The client id the caller claims (HTTP Basic or the form), before any check of it."""
    credentials = _basic_credentials(request)
    if credentials is not None:
        return credentials.partition(":")[0] or None
    return _form(request).get("client_id") or None


def _token_throttle(request) -> HttpResponse | None:
    """429 once a client id, or a source address, has asked for too many tokens."""
    config = settings.TOKEN_RATE_LIMIT
    window = config["WINDOW_SECONDS"]
    keys = [(f"token-ip:{client_ip(request) or 'unknown'}", config["PER_ADDRESS"])]
    client_id = _client_id(request)
    if client_id:
        keys.append((f"token-client:{client_id[:80]}", config["PER_CLIENT"]))
    for key, limit in keys:
        state = ratelimit.charge(key, limit=limit, window=window)
        if state.exceeded:
            who = "client id" if key.startswith("token-client:") else "address"
            response = plain_problem_response(
                429,
                f"Too many token requests from this {who}: at most {limit} per {window} "
                f"seconds. Try again in {max(state.reset, 1)} seconds.",
            )
            response["Retry-After"] = str(max(state.reset, 1))
            return response
    return None


def _has_nul(request) -> bool:
    """A NUL character in a parameter or the Basic credentials (PostgreSQL refuses it)."""
    values = [*request.GET.values(), *_form(request).values(), _basic_credentials(request) or ""]
    return any("\x00" in value for value in values)


class RefuseMalformedMixin:
    """400 for what DOT would hand to the database unread (a NUL in a parameter)."""

    def dispatch(self, request, *args, **kwargs):
        if _has_nul(request):
            return plain_problem_response(
                400,
                "A parameter contains a NUL character.",
                error="invalid_request",
                error_description="A parameter contains a NUL character.",
            )
        return super().dispatch(request, *args, **kwargs)


@method_decorator(csrf_exempt, name="dispatch")
class TokenView(RefuseMalformedMixin, dot_views.TokenView):
    def post(self, request, *args, **kwargs):
        throttled = _token_throttle(request)
        if throttled is not None:
            return throttled
        return oauth_problem(super().post(request, *args, **kwargs))


@method_decorator(csrf_exempt, name="dispatch")
class RevokeTokenView(RefuseMalformedMixin, dot_views.RevokeTokenView):
    def post(self, request, *args, **kwargs):
        return oauth_problem(super().post(request, *args, **kwargs))


def authenticated_client(request):
    """The client that authenticated this request with its id and secret, if any."""
    core = get_oauthlib_core()
    uri, method, body, headers = core._extract_params(request)
    oauth_request = OauthlibRequest(uri, method, body, headers)
    if core.server.request_validator.authenticate_client(oauth_request):
        return oauth_request.client
    return None


@method_decorator(csrf_exempt, name="dispatch")
class IntrospectTokenView(RefuseMalformedMixin, dot_views.IntrospectTokenView):
    """RFC 7662 as DOT answers it, except that a client sees only its own tokens as active,
    and only by POST: RFC 7662 asks for it, and a token in a URL ends up in access logs."""

    http_method_names = ["post", "options"]

    def dispatch(self, request, *args, **kwargs):
        if request.method.lower() not in self.http_method_names:
            # Before DOT's credential check, which would answer 403 to any method.
            return oauth_problem(self.http_method_not_allowed(request, *args, **kwargs))
        return oauth_problem(super().dispatch(request, *args, **kwargs))

    def _own_only(self, request, response):
        if response.status_code != 200:
            return response
        payload = json.loads(response.content)
        if payload.get("active"):
            client = authenticated_client(request)
            if client is None or payload.get("client_id") != client.client_id:
                response.content = json.dumps({"active": False})
        return response

    def post(self, request, *args, **kwargs):
        return self._own_only(request, super().post(request, *args, **kwargs))
