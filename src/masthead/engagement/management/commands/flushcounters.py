from django.core.management.base import BaseCommand

from masthead.engagement import counters, daily


class Command(BaseCommand):
    help = (
        "Write buffered views, shares and read completion to the database now (this process's memory "
        "buffer and Redis), and delete reader digests of days that are over."
    )

    def handle(self, *args, **options):
        written = counters.flush()
        daily.purge_readers(counters.local_day())
        self.stdout.write(self.style.SUCCESS(f"{written} buffered increments written."))
