"""API clients (OAuth2 applications of an organisation) and their rate counters."""

from django.conf import settings
from django.db import models
from oauth2_provider.models import AbstractApplication

from sessions_app.models.events import Organisation


class ApiClient(AbstractApplication):
    """An OAuth2 client (django-oauth-toolkit application) that belongs to one organisation."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_clients"
    )
    scopes = models.CharField(
        max_length=255,
        default="sessions:read sessions:write",
        help_text="Space-separated scopes this client may ask for.",
    )
    # A client a reviewer uses: it answers as they see, so where they review blind no
    # speaker is named (their names, emails and bios are left out).
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reviewer_api_clients",
        help_text="Bind it to a reviewer: it then sees what they see (blind review holds).",
    )

    class Meta(AbstractApplication.Meta):
        verbose_name = "API client"
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"

    @property
    def allowed_scopes(self) -> list[str]:
        return self.scopes.split()


class ApiRateCounter(models.Model):
    """Requests counted for one API caller in its current fixed window.

    One row per caller (``client:<pk>`` or ``ip:<address>``). The API bumps it with a
    single atomic upsert, so every worker process shares the count.
    """

    key = models.CharField(max_length=100, unique=True)
    window_start = models.BigIntegerField(help_text="Unix time the current window began.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "API rate counter"

    def __str__(self) -> str:
        return f"{self.key}: {self.count} since {self.window_start}"
