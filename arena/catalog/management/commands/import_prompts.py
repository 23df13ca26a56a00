"""Import prompts from a file or folder.

Text-to-Image: a .txt (one per line), .csv (text,tags) or .jsonl file. Image Editing: a folder
or a .zip holding manifest.jsonl ({"image": ..., "instruction": ..., "tags": [...]} per line)
and the images it names. Bad lines are reported and skipped; existing prompts are kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from arena.catalog import importing
from arena.catalog.models import Arena
from arena.catalog.services import (
    ImportReport,
    edit_prompts_import,
    prompt_generate,
    prompts_import,
)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--arena", choices=Arena.values, help="Default: from the path.")
        parser.add_argument("--generate", action="store_true", help="Queue their images too.")

    def handle(
        self, *args: Any, path: Path, arena: str | None, generate: bool, **options: Any
    ) -> None:
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        arena = arena or (Arena.EDIT if path.is_dir() or path.suffix == ".zip" else Arena.T2I)
        try:
            report = self._import(path, arena)
        except importing.BundleRejected as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:  # a folder named as a file, a file that cannot be read
            raise CommandError(f"{path} cannot be read: {exc.strerror}.") from None
        for line, message in report.problems:
            self.stderr.write(f"line {line}: {message}")
        self.stdout.write(
            f"Imported {len(report.created)} {Arena(arena).label} prompts; "
            f"{len(report.duplicates)} were already there; "
            f"{len(report.problems)} lines had problems."
        )
        if generate and report.created:
            queued = prompt_generate(prompt_ids=[prompt.pk for prompt in report.created])
            self.stdout.write(f"Queued {queued} generations.")

    def _import(self, path: Path, arena: str) -> ImportReport:
        if arena == Arena.EDIT:
            if path.is_dir():
                edits = importing.parse_edit_folder(path)
            else:
                edits = importing.parse_edit_zip(path.read_bytes())
            return edit_prompts_import(rows=edits.rows, problems=edits.problems)
        parsed = importing.parse_upload(path.name, path.read_bytes())
        return prompts_import(arena=Arena.T2I, rows=parsed.rows, problems=parsed.problems)
