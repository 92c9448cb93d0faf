"""Webhook subscriptions and their delivery log in the admin.

Organisers of an organisation manage its subscriptions; every write is a call to
``sessions_app.webhooks.subscriptions``, as from the API. A switched-off subscription says
why, on its list, its page and at the top of the admin's front page.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template import engines
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from sessions_app.admin.forms import ServiceErrorsMixin
from sessions_app.admin.inlines import TabularInline
from sessions_app.admin.scoping import (
    OrganisationScopedAdmin,
    is_superuser,
    organisation_ids,
    scoped_action,
)
from sessions_app.enums import WEBHOOK_EVENT_PATTERNS, MemberRole
from sessions_app.models import (
    DeliveryState,
    Organisation,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from sessions_app.webhooks import delivery, subscriptions

SECRET_TEMPLATE = """{% extends "admin/base_site.html" %}
{% block title %}Webhook secret{% endblock %}
{% block content %}
<h1>Signing secret of {{ webhook.url }}</h1>
<p><strong>Copy it now.</strong> It is not shown again; if it is lost, issue a new one.</p>
<p><code style="font-size: 1.1em">{{ secret }}</code></p>
<p>Each delivery carries <code>X-Webhook-Signature: sha256=&lt;hex&gt;</code>, the
HMAC-SHA256 of the request body keyed with this secret. Compare it with your own in
constant time before you trust the body.</p>
<p><a href="{{ change_url }}">Back to the subscription</a></p>
{% endblock %}
"""


class WebhookForm(ServiceErrorsMixin, forms.ModelForm):
    """Saved by the service during validation, so its refusals land on the fields."""

    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=[(pattern, pattern) for pattern in WEBHOOK_EVENT_PATTERNS],
        widget=forms.CheckboxSelectMultiple,
        help_text='"*" is every event; "session.*" every session event, and so on.',
    )
    url = forms.URLField(
        max_length=2000,
        assume_scheme="https",
        help_text="https; plain http only to a receiver on loopback in development.",
    )
    field_aliases = {"events": "event_types"}

    class Meta:
        model = WebhookSubscription
        fields = ["organisation", "url", "description", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_types"].initial = self.instance.events if self.instance.pk else ["*"]
        if self.instance.pk:
            self.fields.pop("organisation", None)
        self.plain_secret: str | None = None

    def _post_clean(self) -> None:
        if self._errors:
            return
        data = {
            "url": self.cleaned_data["url"],
            "events": self.cleaned_data["event_types"],
            "description": self.cleaned_data.get("description", ""),
            "active": self.cleaned_data.get("active", True),
        }
        try:
            if self.instance.pk is None:
                self.instance, self.plain_secret = subscriptions.webhook_create(
                    organisation_id=self.cleaned_data["organisation"].pk, data=data
                )
            else:
                names = {"event_types": "events"}
                changed = {names.get(name, name) for name in self.changed_data}
                self.instance, _ = subscriptions.webhook_update(
                    webhook_id=self.instance.pk,
                    organisation_id=self.instance.organisation_id,
                    data={key: value for key, value in data.items() if key in changed},
                )
        except ValidationError as exc:
            self.add_service_errors(exc)


def _state_label(subscription: WebhookSubscription) -> str:
    if not subscription.active:
        return "Switched off" if subscription.disabled_reason else "Off"
    if subscription.failing_since is not None:
        return "Failing"
    return "Active"


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(OrganisationScopedAdmin):
    form = WebhookForm
    organisation_path = "organisation"
    list_display = ["url", "organisation", "events_display", "state_display", "created_at"]
    list_select_related = ["organisation"]
    list_filter = ["active", ("organisation", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["url", "description"]
    readonly_fields = [
        "state_display",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "recent_deliveries",
        "created_at",
        "updated_at",
    ]
    actions = ["issue_new_secret"]

    def organisation_id_of(self, obj) -> int:
        return obj.organisation_id

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if is_superuser(request):
            return qs
        return qs.filter(organisation_id__in=organisation_ids(request, MemberRole.ORGANISER))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Organisation and not is_superuser(request):
            kwargs["queryset"] = Organisation.objects.filter(
                pk__in=organisation_ids(request, MemberRole.ORGANISER)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organisation", "url", "event_types", "description", "active"]
        return ["url", "event_types", "description", "active", *self.readonly_fields]

    def save_form(self, request, form, change):
        request._webhook_secret = form.plain_secret
        return form.instance  # written by the service during validation

    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        pass

    def delete_model(self, request, obj):
        subscriptions.webhook_delete(webhook_id=obj.pk, organisation_id=obj.organisation_id)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            self.delete_model(request, subscription)

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_webhook_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._secret_page(request, obj, secret)

    def _secret_page(self, request, obj, secret):
        from django.http import HttpResponse

        template = engines["django"].from_string(SECRET_TEMPLATE)
        context = {
            **self.admin_site.each_context(request),
            "webhook": obj,
            "secret": secret,
            "change_url": reverse("admin:sessions_app_webhooksubscription_change", args=[obj.pk]),
            "title": "Webhook secret",
        }
        response = HttpResponse(template.render(context, request))
        response["Cache-Control"] = "no-store"
        return response

    def changelist_view(self, request, extra_context=None):
        off = self.get_queryset(request).filter(active=False).exclude(disabled_reason="")
        for subscription in off[:10]:
            messages.warning(request, f"{subscription.url}: {subscription.disabled_reason}")
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            subscription = self.get_object(request, object_id)
            if subscription is not None and subscription.disabled_reason:
                messages.warning(
                    request,
                    f"{subscription.disabled_reason} Tick 'Active' and save to switch it on again.",
                )
        return super().change_view(request, object_id, form_url, extra_context)

    @scoped_action(description="Issue a new signing secret (shown once)", permission="change")
    def issue_new_secret(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Pick one subscription at a time.", messages.WARNING)
            return None
        subscription = queryset.get()
        secret = subscriptions.new_secret()
        subscriptions.webhook_update(
            webhook_id=subscription.pk,
            organisation_id=subscription.organisation_id,
            data={"secret": secret},
        )
        return self._secret_page(request, subscription, secret)

    @admin.display(description="events")
    def events_display(self, obj):
        return ", ".join(obj.events)

    @admin.display(description="state")
    def state_display(self, obj):
        label = _state_label(obj)
        if obj.disabled_reason and not obj.active:
            return format_html('<strong title="{}">{}</strong>', obj.disabled_reason, label)
        return label

    @admin.display(description="latest deliveries")
    def recent_deliveries(self, obj):
        rows = list(obj.deliveries.order_by("-id")[:10])
        if not rows:
            return "None yet."
        log_url = (
            reverse("admin:sessions_app_webhookdelivery_changelist")
            + f"?subscription__id__exact={obj.pk}"
        )
        table = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:sessions_app_webhookdelivery_change", args=[d.pk]),
                    d.created_at.strftime("%a %-d %b %Y, %H:%M:%S UTC"),
                    d.event_type,
                    d.get_state_display(),
                    d.attempt_count,
                    d.last_status_code or d.last_error or "",
                )
                for d in rows
            ),
        )
        return format_html(
            "<table><tr><th>created</th><th>event</th><th>state</th><th>attempts</th>"
            '<th>last answer</th></tr>{}</table><p><a href="{}">The whole log</a></p>',
            table,
            log_url,
        )


class WebhookAttemptInline(TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "finished_at", "status_code", "duration_ms", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True  # the delivery's page is already scoped


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(OrganisationScopedAdmin):
    """The delivery log: read only, with "send again" for failed deliveries."""

    organisation_path = "subscription__organisation"
    list_display = [
        "created_at",
        "subscription",
        "event_type",
        "change_id",
        "state",
        "attempt_count",
        "last_status_code",
        "last_duration_ms",
        "next_attempt_at",
    ]
    list_select_related = ["subscription"]
    list_filter = ["state", "event_type", ("subscription", admin.RelatedOnlyFieldListFilter)]
    list_per_page = 100
    show_full_result_count = False
    fields = [
        "subscription",
        "event_type",
        "change_id",
        "state",
        "attempt_count",
        "last_status_code",
        "last_duration_ms",
        "last_error",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "body",
    ]
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["send_again"]

    def organisation_id_of(self, obj) -> int:
        return obj.subscription.organisation_id

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if is_superuser(request):
            return qs
        return qs.filter(
            subscription__organisation_id__in=organisation_ids(request, MemberRole.ORGANISER)
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @scoped_action(description="Send the selected failed deliveries again", permission="change")
    def send_again(self, request, queryset):
        # The queryset is already this organiser's organisations only.
        queued = sum(
            delivery.delivery_retry(delivery_id=pk)
            for pk in queryset.filter(state=DeliveryState.FAILED).values_list("pk", flat=True)
        )
        skipped = queryset.count() - queued
        self.message_user(
            request,
            f"{queued} delivery(ies) queued again"
            + (f"; {skipped} skipped (not failed, or switched off)." if skipped else "."),
            messages.SUCCESS if queued else messages.WARNING,
        )
