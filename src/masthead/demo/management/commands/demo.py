from django.core.management.base import BaseCommand, CommandError

from masthead.accounts.models import Account
from masthead.articles.models import Article
from masthead.demo.loader import DEMO_HANDLE, load_demo
from masthead.demo.synthetic import generate_articles
from masthead.web import pagecache


class Command(BaseCommand):
    help = "Load Masthead's demo content (creators, articles with pictures, simulated readers)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="only when there are no articles yet")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--articles",
            type=int,
            default=0,
            metavar="N",
            help="also generate N synthetic articles (benchmarks); the demo is loaded first when missing",
        )

    def handle(self, *args, if_empty=False, seed=2026, articles=0, **options):
        if articles < 0:
            raise CommandError("--articles must be zero or more.")
        if if_empty and Article.objects.exists():
            self.stdout.write("Articles exist already; demo content not loaded.")
            return
        log = lambda msg: self.stdout.write(f"  {msg}")  # noqa: E731
        if Account.objects.filter(handle=DEMO_HANDLE).exists():
            if not articles:
                raise CommandError("The demo content is loaded already (use --articles N to add synthetic articles).")
        else:
            counts = load_demo(seed=seed, log=log)
            self.stdout.write(self.style.SUCCESS(f"Demo loaded: {counts}"))
        if articles:
            made = generate_articles(articles, seed=seed, log=log)
            self.stdout.write(self.style.SUCCESS(f"{made} synthetic articles generated"))
        pagecache.purge("site")
