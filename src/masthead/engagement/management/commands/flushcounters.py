from django.core.management.base import BaseCommand

from masthead.engagement import counters


class Command(BaseCommand):
    help = "Write buffered views and shares to the database now (this process's memory buffer and Redis)."

    def handle(self, *args, **options):
        written = counters.flush()
        self.stdout.write(self.style.SUCCESS(f"{written} buffered increments written."))
