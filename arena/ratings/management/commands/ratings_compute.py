"""Compute a leaderboard from a vote file alone (no database) and print it as JSON.

Run on `export_votes` output with the site's settings, it prints exactly the site's numbers.
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
                bootstrap=options["bootstrap"],
                seed=options["seed"],
                min_votes=options["min_votes"],
            )
        except (OSError, VoteFileError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(rows_json(rows))
