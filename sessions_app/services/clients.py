"""Writes to API clients, shared by the admin, ``create_api_client`` and ``seed_demo``.

A client's secret is hashed when it is saved, so the plain secret exists only in what
these functions return: the caller shows it once.
"""

from __future__ import annotations

from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.settings import oauth2_settings

from sessions_app.models import ApiClient, Organisation


def known_scopes() -> list[str]:
    return list(oauth2_settings.SCOPES)


def check_scopes(scopes: list[str]) -> list[str]:
    """The scopes in settings order; ``ValueError`` naming any unknown one."""
    unknown = [scope for scope in scopes if scope not in known_scopes()]
    if unknown:
        raise ValueError(
            f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(known_scopes())}."
        )
    if not scopes:
        raise ValueError("A client needs at least one scope.")
    return [scope for scope in known_scopes() if scope in scopes]


def api_client_create(
    *,
    organisation: Organisation,
    name: str,
    scopes: list[str],
    client_id: str | None = None,
    secret: str | None = None,
) -> tuple[ApiClient, str]:
    """Create a confidential client-credentials client; returns it and its plain secret."""
    client = ApiClient(organisation=organisation, name=name, scopes=" ".join(check_scopes(scopes)))
    if client_id:
        client.client_id = client_id
    secret = api_client_prepare(client, secret)
    client.full_clean(exclude=["client_secret", "user"])
    client.save()
    return client, secret


def api_client_prepare(client: ApiClient, secret: str | None = None) -> str:
    """Make an unsaved client a confidential client-credentials one; returns its secret."""
    secret = secret or generate_client_secret()
    client.client_type = ApiClient.CLIENT_CONFIDENTIAL
    client.authorization_grant_type = ApiClient.GRANT_CLIENT_CREDENTIALS
    client.client_secret = secret
    client.hash_client_secret = True
    return secret


def api_client_revoke_tokens(client: ApiClient) -> int:
    """Delete every access and refresh token of the client; returns how many access tokens."""
    with transaction.atomic():
        get_refresh_token_model().objects.filter(application=client).delete()
        count, _ = get_access_token_model().objects.filter(application=client).delete()
    return count


def api_client_set_secret(client: ApiClient, secret: str | None = None) -> str:
    """Give the client a new secret (stored hashed) and return it in plain text."""
    secret = secret or generate_client_secret()
    client.client_secret = secret
    client.hash_client_secret = True
    client.save(update_fields=["client_secret", "hash_client_secret", "updated"])
    return secret


def api_client_disable(client: ApiClient) -> int:
    """Revoke its tokens and replace its secret with one nobody knows: it can do nothing."""
    with transaction.atomic():
        api_client_set_secret(client)
        return api_client_revoke_tokens(client)
