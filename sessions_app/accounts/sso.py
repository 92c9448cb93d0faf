"""Single sign-on through an organisation's OpenID Connect provider.

Each ``StaffSignIn`` with single sign-on on is one of django-allauth's ``openid_connect``
apps, built in memory (the secret unsealed when the app is used). Its provider id is
``org-<organisation slug>``: its pages are /accounts/oidc/org-<slug>/login/ and
.../login/callback/ (the redirect URI to register at the provider). Whoever signs in
through it is a member of that organisation in the role the ID token's claim gives, or
the default role.
"""

from __future__ import annotations

from allauth.socialaccount.models import SocialApp
from django.contrib.auth.models import Group
from django.db import transaction

from sessions_app.enums import ROLE_GROUPS, MemberRole
from sessions_app.models import Membership, StaffSignIn
from sessions_app.webhooks.sealing import UnsealError, unseal

PROVIDER = "openid_connect"
_PREFIX = "org-"


def _app(config: StaffSignIn) -> SocialApp:
    try:
        secret = unseal(config.client_secret_sealed) if config.client_secret_sealed else ""
    except UnsealError:
        secret = ""
    return SocialApp(
        provider=PROVIDER,
        provider_id=config.provider_id,
        name=config.organisation.name,
        client_id=config.client_id,
        secret=secret,
        settings={
            "server_url": config.issuer,
            # Sent to the provider's token endpoint in the body (client_secret_post) or as
            # Basic auth; both are what a standard provider accepts.
            "token_auth_method": "client_secret_post",
            "oauth_pkce_enabled": True,
        },
    )


def apps(provider: str | None = None, client_id: str | None = None) -> list[SocialApp]:
    """The enabled providers, as allauth asks for them: all, or one by its id."""
    rows = StaffSignIn.objects.filter(single_sign_on=True).select_related("organisation")
    if provider and provider != PROVIDER:
        if not provider.startswith(_PREFIX):
            return []
        rows = rows.filter(organisation__slug=provider[len(_PREFIX) :])
    if client_id:
        rows = rows.filter(client_id=client_id)
    return [_app(row) for row in rows]


def config_for(provider_id: str) -> StaffSignIn | None:
    if not provider_id.startswith(_PREFIX):
        return None
    slug = provider_id[len(_PREFIX) :]
    rows = StaffSignIn.objects.filter(single_sign_on=True, organisation__slug=slug)
    return rows.select_related("organisation").first()


def password_refused(user) -> bool:
    """Whether one of the user's organisations lets its staff in through its provider only."""
    return StaffSignIn.objects.filter(
        single_sign_on=True, password_sign_in=False, organisation__memberships__user=user
    ).exists()


def role_from_claims(config: StaffSignIn, claims: dict) -> list[str]:
    """The roles the ID token's claim names, or the default role."""
    if config.role_claim:
        value = claims.get(config.role_claim)
        values = value if isinstance(value, list) else [value]
        roles = [str(v).strip().lower() for v in values if v is not None]
        named = [role for role in MemberRole.values if role in roles]
        if named:
            return named
    return [config.default_role]


@transaction.atomic
def grant_membership(config: StaffSignIn, user, claims: dict) -> None:
    """Make the user a staff member of the organisation in the roles the provider gives (and
    only those, when a role claim says which)."""
    roles = role_from_claims(config, claims)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    memberships = Membership.objects.filter(organisation=config.organisation, user=user)
    if config.role_claim:
        memberships.exclude(role__in=roles).delete()
    for role in roles:
        Membership.objects.get_or_create(organisation=config.organisation, user=user, role=role)
    # The role groups give the permissions; a user is in a role's group while they hold the
    # role in some organisation.
    held = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    for role, name in ROLE_GROUPS.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        if role in held:
            user.groups.add(group)
        else:
            user.groups.remove(group)
