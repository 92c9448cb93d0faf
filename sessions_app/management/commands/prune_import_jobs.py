"""Delete the CSV imports (and their reports) finished more than a number of days ago."""

from sessions_app.enums import ImportState
from sessions_app.management.pruning import PruneCommand
from sessions_app.models import ImportJob


class Command(PruneCommand):
    help = (
        "Delete CSV imports that finished (done or failed) more than --days days ago, with "
        "their reports; queued and running ones are kept whatever their age. Run it daily, "
        "e.g. from cron, beside `prune_webhook_deliveries` and `prune_db_task_results`."
    )
    singular, plural = "import", "imports"
    kept = "imports"
    what_age = "finished more than {days} days ago"

    def old(self, cutoff):
        return ImportJob.objects.filter(
            finished_at__lt=cutoff, state__in=[ImportState.DONE, ImportState.FAILED]
        )
