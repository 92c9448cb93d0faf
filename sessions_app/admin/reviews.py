"""The programme committee in the staff UI: the review settings, criteria and committee of
an event; each reviewer's queue and the review form; the committee's table, its charts,
its export and the decision."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from sessions_app import services, validators
from sessions_app.admin.event_zone import EventZoneMixin, moment_field
from sessions_app.admin.events import _EventPartAdmin
from sessions_app.admin.filters import EventFilter
from sessions_app.admin.scoping import OrganisationScopedAdmin, events_for, may
from sessions_app.enums import MemberRole, SessionStatus
from sessions_app.models import (
    Comparison,
    Event,
    Membership,
    Review,
    ReviewAssignment,
    ReviewCriterion,
    Reviewer,
    ReviewSettings,
    Session,
)
from sessions_app.models.reviews import ReviewScale
from sessions_app.reviewing import scores as scoring
from sessions_app.selectors import is_blind

DECIDE = "sessions_app.change_reviewsettings"
# Proposals a page of the committee's table shows (all of them are ranked and exported).
TABLE_PAGE = 100


# --- setting up ------------------------------------------------------------------------


class ReviewSettingsForm(forms.ModelForm):
    opens_at = moment_field("Reviews open")
    closes_at = moment_field("Reviews close")

    class Meta:
        model = ReviewSettings
        fields = [
            "event",
            "opens_at",
            "closes_at",
            "reviewers_per_proposal",
            "blind",
            "others_first",
        ]


@admin.register(ReviewSettings)
class ReviewSettingsAdmin(EventZoneMixin, OrganisationScopedAdmin):
    form = ReviewSettingsForm
    list_display = ["event", "opens_at", "closes_at", "reviewers_per_proposal", "blind"]
    list_filter = [EventFilter]
    list_select_related = ["event"]
    actions = []

    def get_readonly_fields(self, request, obj=None):
        return ["event"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        made = services.assign_reviewers(event_id=obj.event_id)
        if made:
            self.message_user(request, f"{made} proposal(s) given to reviewers.")


@admin.register(ReviewCriterion)
class ReviewCriterionAdmin(_EventPartAdmin):
    list_display = ["name", "event", "weight", "scale", "position"]
    fields = ["event", "name", "weight", "scale", "position"]


class ReviewerForm(forms.ModelForm):
    class Meta:
        model = Reviewer
        fields = ["event", "user", "blind"]

    def clean(self):
        data = super().clean()
        event, user = data.get("event") or getattr(self.instance, "event", None), data.get("user")
        if event is not None and user is not None:
            reviews = Membership.objects.filter(
                organisation_id=event.organisation_id, user=user, role=MemberRole.REVIEWER
            )
            if not reviews.exists():
                self.add_error("user", "Only a reviewer of the event's organisation.")
        return data


@admin.register(Reviewer)
class ReviewerAdmin(_EventPartAdmin):
    form = ReviewerForm
    list_display = ["user", "event", "blind", "assigned", "reviewed"]
    fields = ["event", "user", "blind"]
    search_fields = ["user__username", "user__email"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user", "event")
            .annotate(
                _assigned=Count(
                    "user__review_assignments",
                    filter=Q(
                        user__review_assignments__session__event=F("event"),
                        user__review_assignments__abstained=False,
                    ),
                    distinct=True,
                ),
                _reviewed=Count(
                    "user__reviews",
                    filter=Q(user__reviews__session__event=F("event")),
                    distinct=True,
                ),
            )
        )

    @admin.display(description="proposals")
    def assigned(self, obj):
        return obj._assigned

    @admin.display(description="reviewed")
    def reviewed(self, obj):
        return obj._reviewed

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(
                    memberships__role=MemberRole.REVIEWER,
                    memberships__organisation__events__in=events_for(request),
                )
                .distinct()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        made = services.assign_reviewers(event_id=obj.event_id)
        if made:
            self.message_user(request, f"{made} proposal(s) given to reviewers.")


class ReassignForm(forms.ModelForm):
    """The form's validation is the write (as the session form's): the service checks the
    new reviewer and moves the proposal, or says why not on the field."""

    class Meta:
        model = ReviewAssignment
        fields = ["reviewer"]

    def _post_clean(self):
        if self._errors or "reviewer" not in self.changed_data:
            return
        try:
            services.reassign(
                session_id=self.instance.session_id,
                from_user_id=self.initial["reviewer"],
                to_user_id=self.cleaned_data["reviewer"].pk,
            )
        except ValidationError as exc:
            for message in exc.messages:
                self.add_error("reviewer", message)


@admin.register(ReviewAssignment)
class ReviewAssignmentAdmin(OrganisationScopedAdmin):
    """Who reviews what; an organiser gives a proposal to another member of the committee."""

    form = ReassignForm
    organisation_path = "session__event__organisation"
    list_display = ["session", "reviewer", "abstained", "reviewed"]
    list_filter = ["abstained"]
    list_select_related = ["session__event", "reviewer"]
    search_fields = ["session__name", "reviewer__username"]
    readonly_fields = ["session", "abstained"]
    fields = ["session", "reviewer", "abstained"]
    actions = []

    def organisation_id_of(self, obj) -> int:
        return obj.session.event.organisation_id

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _reviewed=Count(
                    "session__reviews", filter=Q(session__reviews__reviewer=F("reviewer"))
                )
            )
        )

    @admin.display(description="reviewed", boolean=True)
    def reviewed(self, obj):
        return bool(obj._reviewed)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "reviewer":
            object_id = validators.ascii_int(request.resolver_match.kwargs.get("object_id") or "")
            assignment = ReviewAssignment.objects.filter(pk=object_id).first()
            members = Reviewer.objects.filter(
                event_id=assignment.session.event_id if assignment else None
            ).values("user_id")
            kwargs["queryset"] = get_user_model().objects.filter(pk__in=members)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        pass  # the form's validation wrote it (ReassignForm)


# --- reviewing --------------------------------------------------------------------------


class ReviewForm(forms.Form):
    comment = forms.CharField(
        label="Comment for the committee",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    speaker_comment = forms.CharField(
        label="Comment for the speakers (optional; sent with the decision)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, criteria, review=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            if criterion.scale == ReviewScale.YES_NO:
                choices = [(1, "yes"), (0, "no")]
            else:
                choices = [(n, str(n)) for n in range(1, 6)]
            self.fields[f"score_{criterion.pk}"] = forms.TypedChoiceField(
                label=f"{criterion.name} (weight {criterion.weight})",
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect,
            )
        if review is not None:
            self.initial |= {"comment": review.comment, "speaker_comment": review.speaker_comment}
            for key, value in (review.scores or {}).items():
                self.initial[f"score_{key}"] = value

    def score_fields(self):
        return [self[f"score_{c.pk}"] for c in self.criteria]

    def scores(self) -> dict[str, int]:
        return {str(c.pk): self.cleaned_data[f"score_{c.pk}"] for c in self.criteria}


def _queue(user):
    """The user's proposals to review, in the events whose window is open, those without
    their review first."""
    reviewed = set(Review.objects.filter(reviewer=user).values_list("session_id", flat=True))
    assignments = list(
        ReviewAssignment.objects.filter(
            reviewer=user, abstained=False, session__session_status=SessionStatus.SUBMITTED
        )
        .select_related("session__event", "session__track", "session__session_type")
        .order_by("session__event_id", "session__created_at", "session_id")
    )
    rows = [{"session": a.session, "done": a.session_id in reviewed} for a in assignments]
    rows.sort(key=lambda row: (row["done"], row["session"].event_id, row["session"].created_at))
    return rows


def _progress(rows) -> dict:
    done = sum(row["done"] for row in rows)
    return {"done": done, "total": len(rows), "left": len(rows) - done}


def _event_progress(event_ids) -> list[dict]:
    """Per event, and per reviewer in it: reviews given of proposals given."""
    out = []
    for event in Event.objects.filter(pk__in=event_ids).order_by("name"):
        given = defaultdict(int)
        done = defaultdict(int)
        names = {}
        for reviewer_id, username, has_review in (
            ReviewAssignment.objects.filter(
                session__event=event,
                abstained=False,
                session__session_status=SessionStatus.SUBMITTED,
            )
            .annotate(
                has_review=Count(
                    "session__reviews", filter=Q(session__reviews__reviewer=F("reviewer"))
                )
            )
            .values_list("reviewer_id", "reviewer__username", "has_review")
        ):
            given[reviewer_id] += 1
            done[reviewer_id] += bool(has_review)
            names[reviewer_id] = username
        reviewers = [
            {"name": names[r], "done": done[r], "total": given[r]}
            for r in sorted(names, key=names.get)
        ]
        out.append(
            {
                "event": event,
                "done": sum(done.values()),
                "total": sum(given.values()),
                "reviewers": reviewers,
            }
        )
    return out


class ReviewAdmin(OrganisationScopedAdmin):
    """Not a list of rows: the reviewer's queue, the review form and the committee's table."""

    organisation_path = "session__event__organisation"

    def organisation_id_of(self, obj) -> int:
        return obj.session.event.organisation_id

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("", view(self.queue_view), name="sessions_app_review_changelist"),
            path("<int:session_id>/", view(self.review_view), name="sessions_app_review_form"),
            path(
                "<int:session_id>/abstain/",
                view(require_POST(self.abstain_view)),
                name="sessions_app_review_abstain",
            ),
            path("compare/", view(self.compare_view), name="sessions_app_review_compare"),
            path("committee/", view(self.committee_view), name="sessions_app_review_committee"),
            path(
                "committee/export.csv",
                view(self.export_view),
                name="sessions_app_review_export",
            ),
            path(
                "committee/decide/",
                view(require_POST(self.decide_view)),
                name="sessions_app_review_decide",
            ),
        ]

    # --- the reviewer's side ------------------------------------------------------------

    def queue_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = _queue(request.user)
        deciding = [e.pk for e in events_for(request) if may(request, DECIDE, e.organisation_id)]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Reviews",
            "rows": rows,
            "progress": _progress(rows),
            "events": _event_progress(deciding) if deciding else [],
            "next": next((row for row in rows if not row["done"]), None),
        }
        return TemplateResponse(request, "admin/sessions_app/review/queue.html", context)

    def _assignment_or_404(self, request, session_id: int) -> ReviewAssignment:
        found = (
            ReviewAssignment.objects.filter(
                reviewer=request.user, abstained=False, session_id=session_id
            )
            .select_related(
                "session__event__organisation", "session__track", "session__session_type"
            )
            .first()
        )
        if found is None or not may(
            request, "sessions_app.add_review", found.session.event.organisation_id
        ):
            raise Http404("No proposal of yours to review here.")
        return found

    def review_view(self, request, session_id: int):
        assignment = self._assignment_or_404(request, session_id)
        session = assignment.session
        event = session.event
        config = ReviewSettings.objects.filter(event=event).first()
        criteria = list(ReviewCriterion.objects.filter(event=event))
        own = Review.objects.filter(session=session, reviewer=request.user).first()
        form = ReviewForm(request.POST or None, criteria=criteria, review=own)
        if request.method == "POST" and form.is_valid():
            try:
                services.review_save(
                    user=request.user,
                    session_id=session.pk,
                    scores=form.scores(),
                    comment=form.cleaned_data["comment"],
                    speaker_comment=form.cleaned_data["speaker_comment"],
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                rows = _queue(request.user)
                following = next((r for r in rows if not r["done"]), None)
                if "_next" in request.POST and following is not None:
                    self.message_user(request, f"Saved your review of “{session.name}”.")
                    return HttpResponseRedirect(
                        reverse("admin:sessions_app_review_form", args=[following["session"].pk])
                    )
                self.message_user(request, f"Saved your review of “{session.name}”.")
                return HttpResponseRedirect(reverse("admin:sessions_app_review_changelist"))
        show_others = own is not None or (config is not None and config.others_first)
        others = (
            list(
                Review.objects.filter(session=session)
                .exclude(reviewer=request.user)
                .select_related("reviewer")
            )
            if show_others
            else []
        )
        rows = _queue(request.user)
        blind = is_blind(request.user, event.pk)
        definitions = event.session_field_definitions
        answers = [
            (definitions[key]["label"], value)
            for key, value in (session.custom_fields or {}).items()
            if key in definitions
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Review: {session.name}",
            "session": session,
            "event": event,
            "form": form,
            "criteria": criteria,
            "open": config is not None and config.is_open(),
            "config": config,
            "others": others,
            "blind": blind,
            "speakers": [] if blind else list(session.speakers.order_by("session_links__position")),
            "answers": answers,
            "progress": _progress(rows),
        }
        return TemplateResponse(request, "admin/sessions_app/review/form.html", context)

    def compare_view(self, request):
        """Comparison mode: two of the reviewer's proposals side by side, "this one is
        better"; the committee's table ranks them from every judgement (Bradley-Terry)."""
        events = list(
            Event.objects.filter(
                sessions__assignments__reviewer=request.user,
                sessions__assignments__abstained=False,
            )
            .distinct()
            .order_by("name")
        )
        if not events:
            raise Http404("No proposals of yours to compare.")
        raw = request.GET.get("event") or request.POST.get("event")
        event_id = validators.ascii_int(raw) if raw else events[0].pk
        event = next((e for e in events if e.pk == event_id), None)
        if event is None:
            raise Http404("No such event.")
        if request.method == "POST":
            winner = validators.ascii_int(request.POST.get("winner") or "")
            loser = validators.ascii_int(request.POST.get("loser") or "")
            try:
                if winner is None or loser is None:
                    raise ValidationError("Choose one of the two.")
                services.comparison_save(user=request.user, winner_id=winner, loser_id=loser)
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, text, messages.ERROR)
            else:
                self.message_user(request, "Noted.", messages.SUCCESS)
            return HttpResponseRedirect(
                f"{reverse('admin:sessions_app_review_compare')}?event={event.pk}"
            )
        pair = services.next_pair(user=request.user, event_id=event.pk)
        blind = is_blind(request.user, event.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Compare: {event.name}",
            "event": event,
            "events": events,
            "pair": pair,
            "blind": blind,
            "done": Comparison.objects.filter(reviewer=request.user, event=event).count(),
        }
        return TemplateResponse(request, "admin/sessions_app/review/compare.html", context)

    def abstain_view(self, request, session_id: int):
        self._assignment_or_404(request, session_id)
        services.abstain(user=request.user, session_id=session_id)
        self.message_user(
            request,
            "You abstain from this proposal; another reviewer is given it.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:sessions_app_review_changelist"))

    # --- the committee's table ---------------------------------------------------------

    def _event_for_table(self, request) -> Event:
        raw = request.GET.get("event") or request.POST.get("event")
        event_id = validators.ascii_int(raw) if raw else None
        events = [e for e in events_for(request) if may(request, DECIDE, e.organisation_id)]
        if not events:
            raise PermissionDenied
        event = next((e for e in events if e.pk == event_id), None) if event_id else events[0]
        if event is None:
            raise Http404("No such event.")
        return event

    def _table(self, request, event: Event):
        proposals = list(
            Session.objects.filter(event=event, session_status=SessionStatus.SUBMITTED)
            .select_related("track", "session_type")
            .order_by("pk")
        )
        track = validators.ascii_int(request.GET.get("track") or "")
        kind = validators.ascii_int(request.GET.get("type") or "")
        totals = list(
            Review.objects.filter(session__event=event).values_list(
                "session_id", "reviewer_id", "total"
            )
        )
        rows = scoring.table([p.pk for p in proposals], totals)
        shown = [
            p
            for p in proposals
            if (track is None or p.track_id == track)
            and (kind is None or p.session_type_id == kind)
        ]
        order = request.GET.get("o", "score")
        if order == "name":
            shown.sort(key=lambda p: (p.name.lower(), p.pk))
        elif order == "count":
            shown.sort(key=lambda p: (-rows[p.pk].count, p.pk))
        else:  # best first; a proposal without reviews last
            column = order if order in ("mean", "median", "spread", "score") else "score"
            order = column

            def key(p):
                value = getattr(rows[p.pk], column)
                return (value is None, -(value or 0.0), p.pk)

            shown.sort(key=key)
        return proposals, rows, shown, totals, order

    def committee_view(self, request):
        event = self._event_for_table(request)
        proposals, rows, shown, totals, order = self._table(request, event)
        lenient = scoring.leniency(totals)
        users = dict(Reviewer.objects.filter(event=event).values_list("user_id", "user__username"))
        overall = sum(t for _s, _r, t in totals) / len(totals) if totals else 0
        leniency_bars = [
            {"name": users.get(r, f"#{r}"), "mean": m, "count": c, "offset": m - overall}
            for r, (m, _sd, c) in sorted(lenient.items(), key=lambda kv: users.get(kv[0], ""))
        ]
        strengths = scoring.bradley_terry(
            [p.pk for p in proposals],
            Comparison.objects.filter(event=event).values_list("winner_id", "loser_id"),
        )
        page = Paginator(shown, TABLE_PAGE).get_page(request.GET.get("page"))
        bins = [0] * 10
        for row in rows.values():
            if row.mean is not None:
                bins[min(int(row.mean * 10), 9)] += 1
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Committee: {event.name}",
            "event": event,
            "events": [e for e in events_for(request) if may(request, DECIDE, e.organisation_id)],
            "table": [(p, rows[p.pk], strengths.get(p.pk)) for p in page.object_list],
            "page": page,
            "query": _query_without_page(request),
            "compared": bool(strengths),
            "order": order,
            "tracks": list(event.tracks.all()),
            "types": list(event.session_types.all()),
            "chosen_track": request.GET.get("track", ""),
            "chosen_type": request.GET.get("type", ""),
            "histogram": _histogram(bins),
            "leniency": _leniency_chart(leniency_bars, overall),
            "reviewed": sum(1 for r in rows.values() if r.count),
            "total": len(proposals),
        }
        return TemplateResponse(request, "admin/sessions_app/review/committee.html", context)

    def export_view(self, request):
        event = self._event_for_table(request)
        _proposals, rows, shown, _totals, _order = self._table(request, event)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["id", "name", "track", "session_type", "reviews", "mean", "median", "spread", "score"]
        )
        for p in shown:
            row = rows[p.pk]
            writer.writerow(
                [
                    p.pk,
                    _safe_cell(p.name),
                    _safe_cell(p.track.name if p.track else ""),
                    _safe_cell(p.session_type.name if p.session_type else ""),
                    row.count,
                    _num(row.mean),
                    _num(row.median),
                    _num(row.spread),
                    _num(row.score),
                ]
            )
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="committee-{event.slug}.csv"'
        return response

    def decide_view(self, request):
        event = self._event_for_table(request)
        top = validators.ascii_int(request.POST.get("top") or "")
        threshold_raw = (request.POST.get("threshold") or "").strip()
        threshold = None
        if threshold_raw:
            try:
                threshold = float(threshold_raw)
            except ValueError:
                threshold = None
        if (top is None) == (threshold is None) or (top is not None and not 0 <= top <= 10_000):
            self.message_user(
                request,
                "Give either how many to accept per track, or the lowest score to accept.",
                messages.ERROR,
            )
            return HttpResponseRedirect(_committee_url(event))
        if request.POST.get("hold") and not event.hold_messages:
            services.event_update(
                event_id=event.pk,
                data={"hold_messages": True},
                actor=services.Actor(user=request.user),
            )
        proposals, rows, _shown, _totals, _order = self._table(request, event)
        # The tracks the table showed: all of them, or the one it was filtered to.
        only = validators.ascii_int(request.POST.get("track") or "")
        of = {p.pk: p for p in proposals}
        by_track: dict = defaultdict(list)
        for row in scoring.ranked(rows.values()):
            session = of[row.session_id]
            if only is None or session.track_id == only:
                by_track[session.track_id].append(session.pk)
        outcome = services.reviews.decide(
            ranked_by_track=by_track,
            top=top,
            threshold=threshold,
            scores={pk: row.score for pk, row in rows.items()},
            actor=services.Actor(user=request.user),
            note="Committee decision.",
        )
        self.message_user(
            request,
            f"{len(outcome.approved)} approved, {len(outcome.rejected)} rejected.",
            messages.SUCCESS,
        )
        for session, reason in outcome.refused:
            self.message_user(
                request, f"“{session.name}” was left submitted: {reason}", messages.ERROR
            )
        return HttpResponseRedirect(_committee_url(event))


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _committee_url(event) -> str:
    return f"{reverse('admin:sessions_app_review_committee')}?event={event.pk}"


def _num(value) -> str:
    return "" if value is None else f"{value:.3f}"


def _safe_cell(value: str) -> str:
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def _histogram(bins: list[int]) -> dict:
    """Bars of how many proposals have each mean score (tenths), as SVG geometry."""
    tallest = max(bins) or 1
    bars = []
    for index, count in enumerate(bins):
        height = round(120 * count / tallest)
        bars.append(
            {
                "x": 10 + index * 36,
                "y": 140 - height,
                "height": height,
                "count": count,
                "label": f"{index * 10} to {index * 10 + 10}%",
            }
        )
    return {"bars": bars, "total": sum(bins)}


def _leniency_chart(bars: list[dict], overall: float) -> dict:
    """Each reviewer's mean against the committee's: a bar right of the middle line is a
    lenient reviewer, left a harsh one."""
    widest = max((abs(b["offset"]) for b in bars), default=0) or 1
    shown = []
    for index, bar in enumerate(bars):
        width = round(150 * abs(bar["offset"]) / widest)
        shown.append(
            {
                **bar,
                "y": 10 + index * 28,
                "x": 300 if bar["offset"] >= 0 else 300 - width,
                "width": width,
                "mean_percent": round(bar["mean"] * 100),
            }
        )
    return {"bars": shown, "height": 20 + 28 * len(bars), "overall": round(overall * 100)}


admin.site.register(Review, ReviewAdmin)
