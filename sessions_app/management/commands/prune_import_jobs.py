"""Delete the CSV imports (and their reports) finished more than a number of days ago."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sessions_app.models import ImportJob, ImportState


class Command(BaseCommand):
    help = (
        "Delete CSV imports that finished (done or failed) more than --days days ago, with "
        "their reports; queued and running ones are kept whatever their age. Run it daily, "
        "e.g. from cron, beside `prune_webhook_deliveries` and `prune_db_task_results`."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=30,
            help="Keep this many days of imports (default: %(default)s).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say how many would be deleted."
        )

    def handle(self, *args, days: int, dry_run: bool, **options):
        if days < 1:
            raise CommandError("--days takes a whole number of days, 1 or more.")
        old = ImportJob.objects.filter(
            finished_at__lt=timezone.now() - dt.timedelta(days=days),
            state__in=[ImportState.DONE, ImportState.FAILED],
        )
        count = old.count()
        if not dry_run:
            old.delete()
        verb = "Would delete" if dry_run else "Deleted"
        noun = "import" if count == 1 else "imports"
        self.stdout.write(f"{verb} {count} {noun} finished more than {days} days ago.")
