"""Write the votes (or the answers to one quality question) as JSON Lines in the format of the
public arena analysis notebooks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from arena.battles.qualities import Quality
from arena.catalog.models import Arena
from arena.ratings.models import MAIN
from arena.ratings.services import votes_export


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--arena", choices=Arena.values, help="Only this arena's votes.")
        parser.add_argument(
            "--quality", choices=Quality.values, help="The answers to this question instead."
        )
        parser.add_argument("--output", type=Path, help="File to write (default: stdout).")

    def handle(
        self,
        *args: Any,
        arena: str | None,
        quality: str | None,
        output: Path | None,
        **options: Any,
    ) -> None:
        if output is None:
            count = votes_export(out=sys.stdout.buffer, arena=arena, quality=quality or MAIN)
        else:
            with output.open("wb") as handle:
                count = votes_export(out=handle, arena=arena, quality=quality or MAIN)
        self.stderr.write(f"Exported {count} votes.")
