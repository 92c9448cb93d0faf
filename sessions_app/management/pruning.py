"""What the ``prune_*`` commands share: ``--days`` and ``--dry-run``, delete, say how many."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db.models import QuerySet
from django.utils import timezone

from sessions_app.ops.housekeeping import delete_in_batches


class PruneCommand(BaseCommand):
    """Deletes ``old(cutoff)`` and says so; a subclass names the rows and how they are old."""

    # e.g. "webhook delivery", "webhook deliveries", "the log", "older than {days} days"
    singular = plural = kept = what_age = ""

    def old(self, cutoff: dt.datetime) -> QuerySet:
        raise NotImplementedError

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=30,
            help=f"Keep this many days of {self.kept} (default: %(default)s).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say how many would be deleted."
        )

    def handle(self, *args, days: int, dry_run: bool, **options):
        if days < 1:
            raise CommandError("--days takes a whole number of days, 1 or more.")
        old = self.old(timezone.now() - dt.timedelta(days=days))
        count = old.count() if dry_run else delete_in_batches(old)
        verb = "Would delete" if dry_run else "Deleted"
        noun = self.singular if count == 1 else self.plural
        self.stdout.write(f"{verb} {count} {noun} {self.what_age.format(days=days)}.")
