"""Delete the webhook delivery log older than a number of days (deliveries that are done)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sessions_app.models import DeliveryState, WebhookDelivery


class Command(BaseCommand):
    help = (
        "Delete delivered and failed webhook deliveries (with their attempts) created more "
        "than --days days ago. Pending ones are kept whatever their age. Run it daily, e.g. "
        "from cron, beside `prune_db_task_results` for the task queue's finished results."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=30,
            help="Keep this many days of the log (default: %(default)s).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say how many would be deleted."
        )

    def handle(self, *args, days: int, dry_run: bool, **options):
        if days < 1:
            raise CommandError("--days takes a whole number of days, 1 or more.")
        old = WebhookDelivery.objects.filter(
            created_at__lt=timezone.now() - dt.timedelta(days=days),
            state__in=[DeliveryState.DELIVERED, DeliveryState.FAILED],
        )
        count = old.count()
        if not dry_run:
            old.delete()
        verb = "Would delete" if dry_run else "Deleted"
        noun = "delivery" if count == 1 else "deliveries"
        self.stdout.write(f"{verb} {count} webhook {noun} older than {days} days.")
