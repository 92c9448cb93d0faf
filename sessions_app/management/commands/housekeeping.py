"""Run the worker's housekeeping once (sessions_app.ops.housekeeping), e.g. from cron."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sessions_app.ops import housekeeping


class Command(BaseCommand):
    help = (
        "Delete what piles up, once: webhook deliveries that are done, finished CSV imports "
        "and finished task results older than --days days (and task results left running "
        "that long by a killed worker), background exports finished more than "
        "DJANGO_EXPORT_KEEP_HOURS hours ago (a day) with their files, expired OAuth tokens, "
        "expired admin logins, rate-limit counters whose window has ended, and staff sign-in "
        "records older than DJANGO_ACCESS_LOG_KEEP_DAYS days (90), finished personal data "
        "requests older than DJANGO_PRIVACY_LOG_KEEP_DAYS days (1095); and erase the "
        "registrants of events past their organisation's retention days (their seats stay). "
        "A worker of the pool "
        "does this when it starts and every DJANGO_HOUSEKEEPING_EVERY seconds (a day); run this "
        "instead, e.g. from cron, where that is set to 0."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.HOUSEKEEPING["KEEP_DAYS"],
            help="Keep this many days of deliveries, imports and task results "
            "(default: DJANGO_HOUSEKEEPING_KEEP_DAYS, %(default)s).",
        )

    def handle(self, *args, days: int, **options):
        if days < 1:
            raise CommandError("--days takes a whole number of days, 1 or more.")
        deleted = housekeeping.run(keep_days=days)
        events, registrants = deleted.pop("events erased"), deleted.pop("registrants erased")
        summary = ", ".join(f"{what} {n}" for what, n in deleted.items())
        self.stdout.write(
            f"Deleted (older than {days} days, exports a day, sign-ins "
            f"{settings.ACCESS_LOG['KEEP_DAYS']} days, personal data requests "
            f"{settings.ACCESS_LOG['REQUESTS_KEEP_DAYS']} days, or ended): {summary}. "
            f"Erased past their organisation's retention: {events} event(s), {registrants} "
            "registrant(s). Expired tokens and logins cleared."
        )
