"""Delete the webhook delivery log older than a number of days (deliveries that are done)."""

from sessions_app.management.pruning import PruneCommand
from sessions_app.models import DeliveryState, WebhookDelivery


class Command(PruneCommand):
    help = (
        "Delete delivered and failed webhook deliveries (with their attempts) created more "
        "than --days days ago. Pending ones are kept whatever their age. Run it daily, e.g. "
        "from cron, beside `prune_db_task_results` for the task queue's finished results."
    )
    singular, plural = "webhook delivery", "webhook deliveries"
    kept = "the log"
    what_age = "older than {days} days"

    def old(self, cutoff):
        return WebhookDelivery.objects.filter(
            created_at__lt=cutoff, state__in=[DeliveryState.DELIVERED, DeliveryState.FAILED]
        )
