from django.core.management.base import BaseCommand

from masthead.discovery.indexing import reindex


class Command(BaseCommand):
    help = "Rebuild the search index from the published articles."

    def add_arguments(self, parser):
        parser.add_argument("--clear", action="store_true", help="empty the index first")
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, clear: bool = False, batch: int = 500, **options):
        def progress(done: int, total: int) -> None:
            if done == total or done % (batch * 20) == 0:
                self.stdout.write(f"{done}/{total}")

        total = reindex(batch=batch, clear=clear, progress=progress if options["verbosity"] else None)
        self.stdout.write(self.style.SUCCESS(f"indexed {total} articles"))
