"""Delete the webhook delivery log older than a number of days (deliveries that are done)."""

from sessions_app.management.pruning import PruneCommand
from sessions_app.ops.housekeeping import old_webhook_deliveries


class Command(PruneCommand):
    help = (
        "Delete delivered and failed webhook deliveries (with their attempts) created more "
        "than --days days ago. Pending ones are kept whatever their age. The worker does this "
        "daily (DJANGO_HOUSEKEEPING_EVERY); this is the same by hand."
    )
    singular, plural = "webhook delivery", "webhook deliveries"
    kept = "the log"
    what_age = "older than {days} days"
    old = staticmethod(old_webhook_deliveries)
