"""Delete the CSV imports (and their reports) finished more than a number of days ago."""

from sessions_app.management.pruning import PruneCommand
from sessions_app.ops.housekeeping import old_imports


class Command(PruneCommand):
    help = (
        "Delete CSV imports that finished (done or failed) more than --days days ago, with "
        "their reports; queued and running ones are kept whatever their age. The worker does "
        "this daily (DJANGO_HOUSEKEEPING_EVERY); this is the same by hand."
    )
    singular, plural = "import", "imports"
    kept = "imports"
    what_age = "finished more than {days} days ago"
    old = staticmethod(old_imports)
