"""Compute a leaderboard from a vote file alone (no database) and print it as JSON.

Run on `export_votes` output with the site's settings, it prints exactly the site's numbers:
the main board, or with `--category <slug>` that category's board (the votes on its prompts).
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = __doc__
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--votes", type=Path, required=True, help="A JSON Lines vote file.")
        parser.add_argument("--arena", help="Only this arena's votes (default: all in the file).")
        parser.add_argument(
            "--category", help="Only the votes on this category's prompts (a slug, e.g. counting)."
        )
        parser.add_argument("--bootstrap", type=int, default=settings.ARENA_BOOTSTRAP_ROUNDS)
        parser.add_argument("--seed", type=int, default=settings.ARENA_RATINGS_SEED)
        parser.add_argument("--min-votes", type=int, default=settings.ARENA_MIN_VOTES)

    def handle(self, *args: Any, **options: Any) -> None:
        # What Django loaded lives until exit: keeping the collector off it saves a twentieth
        # of a second here and at exit (the run takes under a second, so that is noticeable).
        gc.freeze()
        from arena.ratings.votefile import VoteFileError, compute_from_file, rows_json

        try:
            rows = compute_from_file(
                options["votes"],
                arena=options["arena"],
                category=options["category"],
                bootstrap=options["bootstrap"],
                seed=options["seed"],
                min_votes=options["min_votes"],
            )
        except (OSError, VoteFileError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(rows_json(rows))
        # Each vote counts for both its models.
        votes = sum(row["votes"] for row in rows) // 2
        if options["category"] and votes < settings.ARENA_CATEGORY_MIN_VOTES:
            self.stderr.write(
                f"{options['category']} has {votes} votes; the site shows a category's board "
                f"from {settings.ARENA_CATEGORY_MIN_VOTES}."
            )
