"""The admin front page names the user's webhook subscriptions that were switched off."""

from django import template

from sessions_app.admin.scoping import is_superuser, organisation_ids
from sessions_app.enums import MemberRole
from sessions_app.models import WebhookSubscription

register = template.Library()


@register.simple_tag(takes_context=True)
def switched_off_webhooks(context) -> list[WebhookSubscription]:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    off = WebhookSubscription.objects.filter(active=False).exclude(disabled_reason="")
    if not is_superuser(request):
        off = off.filter(organisation_id__in=organisation_ids(request, MemberRole.ORGANISER))
    return list(off.order_by("-disabled_at")[:5])
