"""A session's reviews for the organisation's clients (scope ``reviews:read``).

Each review names its reviewer by id; by name too, unless the event's reviews are blind.
The answer's ``review_summary`` is the committee's view of the proposal: how many reviews,
their mean total (0 to 1), and the score with each reviewer's leniency taken out
(``sessions_app.reviewing.scores``).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from sessions_app.api.schema import ID_PARAMETER, problems
from sessions_app.api.views import ApiView
from sessions_app.models import Review, ReviewSettings, Session
from sessions_app.reviewing import scores as scoring
from sessions_app.selectors import one_or_none
from sessions_app.wire.representation import UtcDateTimeField
from sessions_app.wire.session_input import MAX_ID


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reviewer_id = serializers.IntegerField()
    reviewer = serializers.CharField(
        allow_null=True, help_text="The reviewer's user name; null where reviews are blind."
    )
    scores = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="By criterion id: 1-5, or 1/0 for yes/no.",
    )
    total = serializers.FloatField(help_text="The weighted mean over the criteria, 0 to 1.")
    comment = serializers.CharField(help_text="For the committee.")
    speaker_comment = serializers.CharField(help_text="For the speakers, sent with the decision.")
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()


class ReviewSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True, help_text="Of the reviews' totals, 0 to 1.")
    normalised = serializers.FloatField(
        allow_null=True,
        help_text="The mean of the reviews as z-scores among each reviewer's own: what the "
        "committee ranks by (0 is a reviewer's average).",
    )


class SessionReviewsSerializer(serializers.Serializer):
    items = ReviewSerializer(many=True)
    review_summary = ReviewSummarySerializer()


class SessionReviewsView(ApiView):
    """The reviews of one of your sessions."""

    fixed_scope = "reviews:read"
    required_scopes = ["reviews"]

    @extend_schema(
        operation_id="sessions_reviews",
        summary="A session's reviews and its review summary",
        tags=["sessions"],
        parameters=[ID_PARAMETER],
        responses={200: SessionReviewsSerializer, **problems(400, 401, 403, 404, 429)},
    )
    def get(self, request, pk: str):
        self.query().check()
        number = int(pk)
        session = (
            one_or_none(
                Session.objects.filter(pk=number, event__organisation_id=self.organisation_id)
            )
            if number <= MAX_ID
            else None
        )
        if session is None:
            raise NotFound(f"There is no session with id {pk[:30]}.")
        blind = (
            session.event_id in self.blind_event_ids()
            or ReviewSettings.objects.filter(event_id=session.event_id, blind=True).exists()
        )
        reviews = list(
            Review.objects.filter(session=session).select_related("reviewer").order_by("pk")
        )
        totals = list(
            Review.objects.filter(session__event_id=session.event_id).values_list(
                "session_id", "reviewer_id", "total"
            )
        )
        row = scoring.table([session.pk], totals)[session.pk]
        items = [
            {
                "id": r.pk,
                "reviewer_id": r.reviewer_id,
                "reviewer": None if blind else r.reviewer.get_username(),
                "scores": {k: int(v) for k, v in (r.scores or {}).items()},
                "total": r.total,
                "comment": r.comment,
                "speaker_comment": r.speaker_comment,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            }
            for r in reviews
        ]
        body = SessionReviewsSerializer(
            {
                "items": items,
                "review_summary": {
                    "count": row.count,
                    "mean": row.mean,
                    "normalised": row.score,
                },
            }
        ).data
        return Response(body)


__all__ = ["SessionReviewsView"]
