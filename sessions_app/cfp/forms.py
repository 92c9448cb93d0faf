"""The speakers' forms: a proposal to a call, the sign-in, a proposal's edit, the profile."""

from __future__ import annotations

from typing import Any

from django import forms

from sessions_app.cfp.guard import GuardedForm
from sessions_app.models import CallForProposals, CustomField, Session
from sessions_app.models.people import BIO_MAX, LINKS_MAX, PHOTO_MAX_BYTES
from sessions_app.services.proposals import CO_SPEAKERS_MAX
from sessions_app.wire.custom_fields import (
    custom_form_name,
    custom_formfield,
    custom_initial,
    custom_wire_value,
)


def asked_fields(call: CallForProposals) -> tuple[list[CustomField], set[int]]:
    """The custom fields the call asks (and every field the event requires), and which of
    them need an answer."""
    event_required = list(
        call.event.custom_fields.filter(required=True).prefetch_related("choices")
    )
    if call.pk is None:  # a session organisers made, in an event without a call
        return event_required, {f.pk for f in event_required}
    asked = {f.pk: f for f in call.fields.prefetch_related("choices")}
    for field in event_required:
        asked.setdefault(field.pk, field)
    required = {f.pk for f in call.required_fields.all()} | {f.pk for f in event_required}
    ordered = sorted(asked.values(), key=lambda f: (f.sort_order, f.pk))
    return ordered, required


class ProposalFields(forms.Form):
    """Title, abstract, type, track and the call's questions."""

    name = forms.CharField(label="Title", max_length=255)
    description = forms.CharField(label="Abstract", widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args, call: CallForProposals, session: Session | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        self.fields["description"].max_length = call.abstract_max
        self.fields["description"].min_length = call.abstract_min or None
        self.fields["description"].help_text = (
            f"{call.abstract_min} to {call.abstract_max} characters."
            if call.abstract_min
            else f"At most {call.abstract_max} characters."
        )
        # The limit is checked on the server (services.proposals.check_abstract) with the
        # same message whichever door; no maxlength attribute cuts the text silently.
        self.fields["description"].widget.attrs.pop("maxlength", None)
        types = list(call.session_types.all()) if call.pk else []
        if types:
            self.fields["session_type"] = forms.TypedChoiceField(
                label="Session type",
                choices=[("", "Choose…")]
                + [(t.pk, f"{t.name} ({t.default_minutes} min)") for t in types],
                coerce=int,
            )
        tracks = list(call.tracks.all()) if call.pk else []
        if tracks:
            self.fields["track"] = forms.TypedChoiceField(
                label="Track",
                choices=[("", "Choose…")] + [(t.pk, t.name) for t in tracks],
                coerce=int,
            )
        self.definitions, required = asked_fields(call)
        for definition in self.definitions:
            field = custom_formfield(definition)
            field.required = definition.pk in required
            field.help_text = definition.help_text
            self.fields[custom_form_name(definition)] = field
        if session is not None:
            self.initial |= {
                "name": session.name,
                "description": session.description,
                "session_type": session.session_type_id,
                "track": session.track_id,
            }
            stored = session.custom_fields or {}
            for definition in self.definitions:
                self.initial[custom_form_name(definition)] = custom_initial(
                    definition, stored.get(definition.key)
                )

    def custom_names(self) -> list[str]:
        return [custom_form_name(d) for d in self.definitions]

    def proposal_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {"name": data["name"].strip(), "description": data["description"]}
        # Only what the form asks: a type or track the organisers gave stays where not asked.
        if "session_type" in self.fields:
            values["session_type_id"] = data.get("session_type")
        if "track" in self.fields:
            values["track_id"] = data.get("track")
        # An answer taken back (None) clears its key.
        values["custom_fields"] = {
            definition.key: custom_wire_value(definition, data.get(custom_form_name(definition)))
            for definition in self.definitions
        }
        return values


class SubmitForm(GuardedForm, ProposalFields):
    """The call's form: the proposal and who proposes it."""

    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        help_text="We write to you here; you sign in with it to follow your proposal.",
    )
    first_name = forms.CharField(label="First name", max_length=100)
    last_name = forms.CharField(label="Last name", max_length=100, required=False)
    bio = forms.CharField(
        label="About you",
        required=False,
        max_length=BIO_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A few lines for the programme.",
    )
    co_speakers = forms.CharField(
        label="Co-speakers",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=f"Their email addresses, one a line (at most {CO_SPEAKERS_MAX}): "
        "we invite them to join.",
    )
    field_order = ["email", "first_name", "last_name", "bio", "name", "description"]

    def co_speaker_list(self) -> list[str]:
        raw = self.cleaned_data.get("co_speakers", "")
        return [line.strip() for line in raw.replace(",", "\n").splitlines() if line.strip()]

    def profile(self) -> dict[str, str]:
        return {
            "first_name": self.cleaned_data["first_name"].strip(),
            "last_name": self.cleaned_data.get("last_name", "").strip(),
            "bio": self.cleaned_data.get("bio", ""),
        }


class SignInForm(GuardedForm):
    email = forms.EmailField(label="Your email address", max_length=254)


class ProfileForm(forms.Form):
    first_name = forms.CharField(label="First name", max_length=100)
    last_name = forms.CharField(label="Last name", max_length=100, required=False)
    company = forms.CharField(label="Company", max_length=200, required=False)
    job_title = forms.CharField(label="Job title", max_length=200, required=False)
    bio = forms.CharField(
        label="About you",
        required=False,
        max_length=BIO_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    links = forms.CharField(
        label="Links",
        required=False,
        max_length=LINKS_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Your site and profiles, one https:// address a line (at most 5).",
    )
    photo = forms.FileField(
        label="Photo",
        required=False,
        help_text=f"JPEG, PNG or WebP, at most {PHOTO_MAX_BYTES // 1024 // 1024} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_photo = forms.BooleanField(label="Remove my photo", required=False)

    def profile_data(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            name: data.get(name, "").strip() if name != "bio" else data.get(name, "")
            for name in ("first_name", "last_name", "company", "job_title", "bio", "links")
        }


class AvailabilityForm(forms.Form):
    """When the speaker can be at one event: days and hours, in the event's zone."""

    windows = forms.CharField(
        label="When you can be there",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One time a line, as 2027-03-10 09:00-17:00 (the event's time zone). "
        "Empty: at any time.",
    )
