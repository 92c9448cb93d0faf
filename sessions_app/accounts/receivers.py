"""What a sign-in leaves behind: the single sign-on's membership, whether a second factor must
be set up first, and a refused second factor in the sign-in audit."""

from __future__ import annotations

from allauth.account.signals import user_logged_in as allauth_logged_in
from allauth.mfa.signals import authentication_failed
from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from sessions_app.accounts import sso
from sessions_app.models import StaffSignIn
from sessions_app.ops.client_address import client_ip

# The session flag SecondFactorSetupMiddleware reads: set at sign-in for a staff member who
# must have a second factor and has none; the middleware clears it once they have one.
SETUP_NEEDED = "second_factor_setup_needed"


def second_factor_required(user) -> bool:
    if user.is_superuser and settings.SUPERUSER_SECOND_FACTOR:
        return True
    return StaffSignIn.objects.filter(
        require_second_factor=True, organisation__memberships__user=user
    ).exists()


@receiver(user_logged_in, dispatch_uid="accounts.second_factor_setup")
def _on_sign_in(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session") or not user.is_staff:
        return
    from allauth.mfa.utils import is_mfa_enabled

    if second_factor_required(user) and not is_mfa_enabled(user):
        request.session[SETUP_NEEDED] = True
    else:
        request.session.pop(SETUP_NEEDED, None)


@receiver(allauth_logged_in, dispatch_uid="accounts.single_sign_on_membership")
def _on_single_sign_on(sender, request, user, sociallogin=None, **kwargs) -> None:
    if sociallogin is None:
        return
    config = sso.config_for(sociallogin.account.provider)
    if config is None:
        return
    data = sociallogin.account.extra_data or {}
    claims = {**(data.get("id_token") or {}), **(data.get("userinfo") or {})}
    sso.grant_membership(config, user, claims)
    # The membership may be what requires a second factor: ask again.
    _on_sign_in(sender, request=request, user=user)


@receiver(authentication_failed, dispatch_uid="accounts.second_factor_refused")
def _on_second_factor_refused(sender, request, user, **kwargs) -> None:
    """A wrong code (or passkey) is refused like a wrong password: in the staff sign-ins'
    refused list, with the step it failed at (its path)."""
    AccessFailureLog.objects.create(
        username=user.get_username(),
        ip_address=client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:255],
        path_info=(request.path if request is not None else "")[:255],
        http_accept=(request.META.get("HTTP_ACCEPT", "") if request is not None else "")[:1025],
        locked_out=False,
    )
