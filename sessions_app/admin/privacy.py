"""A person's data on request, for organisers: *Personal data requests* lists every export and
erasure of the organisation (the audit trail: who asked, when, how many records, never whom),
and *Add* takes an address and either downloads everything held about that person (JSON)
or has the worker erase it (``sessions_app.privacy``; the API does the same). *Staff
sign-ins* beside it lists the organisation's staff sign-ins and refused attempts."""

from __future__ import annotations

import json

from axes.models import AccessFailureLog, AccessLog
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join

from sessions_app.admin.scoping import OrganisationScopedAdmin
from sessions_app.enums import JobState
from sessions_app.models import Membership, Organisation, PrivacyRequest
from sessions_app.privacy import erasure, holdings

SIGN_INS_SHOWN = 200


class PrivacyRequestForm(forms.ModelForm):
    address = forms.EmailField(
        max_length=254,
        help_text="The person's address, in any case: every registrant and speaker with it in "
        "the organisation's events, and every record that names them.",
    )
    confirm = forms.BooleanField(
        required=False,
        label="I understand that an erasure cannot be undone",
        help_text="Needed for an erasure only.",
    )

    class Meta:
        model = PrivacyRequest
        fields = ["organisation", "kind"]
        help_texts = {
            "kind": "Export: download everything held about the person now (JSON). Erasure: "
            "the worker removes it; registrants keep their seats under the name 'Erased'."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:  # a retention is housekeeping's, never asked for by hand
            asked = (PrivacyRequest.Kind.EXPORT, PrivacyRequest.Kind.ERASURE)
            self.fields["kind"].choices = [(kind.value, kind.label) for kind in asked]

    def clean(self):
        data = super().clean()
        if data.get("kind") == PrivacyRequest.Kind.ERASURE and not data.get("confirm"):
            self.add_error("confirm", "Tick this to erase: an erasure cannot be undone.")
        return data


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(OrganisationScopedAdmin):
    form = PrivacyRequestForm
    organisation_path = "organisation"
    list_display = [
        "created_at",
        "kind",
        "state",
        "organisation",
        "requested_by",
        "counts_display",
        "finished_at",
    ]
    list_select_related = ["organisation"]
    list_filter = ["kind", "state"]
    readonly_fields = [
        "organisation",
        "kind",
        "state",
        "requested_by",
        "counts_display",
        "error",
        "created_at",
        "finished_at",
    ]

    def organisation_id_of(self, obj) -> int:
        return obj.organisation_id

    def get_urls(self):
        view = self.admin_site.admin_view(self.sign_ins_view)
        return [
            path("sign-ins/", view, name="sessions_app_privacyrequest_signins"),
            *super().get_urls(),
        ]

    def sign_ins_view(self, request):
        """The sign-ins and refused attempts of the staff of the organisations where the
        user may see the audit trail (axes records them; housekeeping keeps
        ``ACCESS_LOG["KEEP_DAYS"]``)."""
        allowed = self.organisations_for(request, "view")
        if allowed is not None and not allowed:
            raise PermissionDenied
        members = Membership.objects.all()
        if allowed is not None:
            members = members.filter(organisation_id__in=allowed)
        usernames = members.values("user__username")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Staff sign-ins",
            "keep_days": settings.ACCESS_LOG["KEEP_DAYS"],
            "shown": SIGN_INS_SHOWN,
            "sign_ins": AccessLog.objects.filter(username__in=usernames).order_by(
                "-attempt_time", "-id"
            )[:SIGN_INS_SHOWN],
            "refused": AccessFailureLog.objects.filter(username__in=usernames).order_by(
                "-attempt_time", "-id"
            )[:SIGN_INS_SHOWN],
        }
        return TemplateResponse(request, "admin/sessions_app/privacyrequest/sign_ins.html", context)

    def has_change_permission(self, request, obj=None):
        return False  # the audit trail is read only

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organisation", "address", "kind", "confirm"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Organisation:
            allowed = self.organisations_for(request, "add")
            if allowed is not None:
                kwargs["queryset"] = Organisation.objects.filter(pk__in=allowed)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        email, by = form.cleaned_data["address"], request.user.get_username()
        if obj.kind == PrivacyRequest.Kind.ERASURE:
            queued = erasure.start(
                organisation_id=obj.organisation_id, email=email, requested_by=by
            )
            obj.pk, obj.state, obj.created_at = queued.pk, queued.state, queued.created_at
            return
        data = holdings.export(holdings.find(organisation_id=obj.organisation_id, email=email))
        obj.state, obj.requested_by = JobState.DONE, by
        obj.counts, obj.finished_at = holdings.counts(data), timezone.now()
        obj.save()
        request._personal_data = data

    def response_add(self, request, obj, post_url_continue=None):
        data = getattr(request, "_personal_data", None)
        if data is not None:
            response = HttpResponse(
                json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
                content_type="application/json; charset=utf-8",
            )
            response["Content-Disposition"] = f'attachment; filename="personal-data-{obj.pk}.json"'
            response["Cache-Control"] = "no-store"
            return response
        self.message_user(
            request,
            f"Erasure #{obj.pk} is queued: the worker carries it out in a moment; its counts "
            "show here when it is done.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:sessions_app_privacyrequest_changelist"))

    @admin.display(description="records")
    def counts_display(self, obj):
        if not obj.counts:
            return "none" if obj.state == JobState.DONE else "-"
        return format_html_join(
            ", ", "{} {}", ((n, kind.replace("_", " ")) for kind, n in sorted(obj.counts.items()))
        )
