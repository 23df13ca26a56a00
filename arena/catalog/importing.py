"""Reading prompts a curator pastes or uploads: one per line, CSV, or JSON Lines for text
prompts; a zip or a folder with a JSON Lines manifest and images for editing prompts.

Every bad line is reported with its line number and the reason; good lines are kept.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

MAX_PROMPT_CHARS = 4000
MAX_TAGS = 20


@dataclass(frozen=True, slots=True)
class PromptRow:
    line: int
    text: str
    tags: tuple[str, ...] = ()


@dataclass(slots=True)
class Parsed:
    rows: list[PromptRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)

    def add(self, line: int, text: object, tags: object = ()) -> None:
        if not isinstance(text, str) or not text.strip():
            self.problems.append((line, "the prompt text is empty"))
            return
        text = " ".join(text.split())
        if len(text) > MAX_PROMPT_CHARS:
            self.problems.append(
                (line, f"the prompt is longer than {MAX_PROMPT_CHARS} characters")
            )
            return
        parsed_tags = _tags(tags)
        if parsed_tags is None:
            self.problems.append((line, "tags must be a list of words or a comma-separated text"))
            return
        self.rows.append(PromptRow(line=line, text=text, tags=parsed_tags))


def _tags(value: object) -> tuple[str, ...] | None:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items: list[object] = list(value.replace(";", ",").replace("|", ",").split(","))
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return None
    if not all(isinstance(item, str) for item in items):
        return None
    tags = tuple(dict.fromkeys(str(item).strip().lower() for item in items if str(item).strip()))
    return tags[:MAX_TAGS]


def parse_lines(text: str) -> Parsed:
    parsed = Parsed()
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            parsed.add(number, line)
    return parsed


def parse_csv(text: str) -> Parsed:
    parsed = Parsed()
    reader = csv.DictReader(io.StringIO(text))
    fields = [name.strip().lower() for name in reader.fieldnames or []]
    if "text" not in fields:
        parsed.problems.append((1, "the CSV needs a header row with a 'text' column (and 'tags')"))
        return parsed
    reader.fieldnames = fields
    for row in reader:
        line = reader.line_num
        if None in row:
            parsed.problems.append((line, "this row has more columns than the header"))
            continue
        parsed.add(line, row.get("text"), row.get("tags") or "")
    return parsed


def parse_jsonl(text: str) -> Parsed:
    parsed = Parsed()
    for number, item in _json_lines(text, parsed.problems, example='{"text": "..."}'):
        parsed.add(number, item.get("text"), item.get("tags", ()))
    return parsed


def _json_lines(
    text: str, problems: list[tuple[int, str]], *, example: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The objects of a JSON Lines text with their line numbers; bad lines go to `problems`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append((number, f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(item, dict):
            problems.append((number, f"each line must be an object like {example}"))
            continue
        yield number, item


def parse_upload(filename: str, data: bytes) -> Parsed:
    """Pick the parser from the file's extension (.csv, .jsonl/.ndjson/.json, .txt)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Parsed(problems=[(1, "the file is not UTF-8 text")])
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        return parse_csv(text)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return parse_jsonl(text)
    if suffix in (".txt", ""):
        return parse_lines(text)
    return Parsed(problems=[(1, f"'{suffix}' files are not supported: use .csv, .jsonl or .txt")])


# --- Editing prompts: a folder or a zip with a JSON Lines manifest ----------------------------

MANIFEST = "manifest.jsonl"
MAX_BUNDLE_FILES = 2000
MAX_BUNDLE_FILE_BYTES = 20 * 1024 * 1024
MAX_BUNDLE_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class EditRow:
    line: int
    instruction: str
    image_name: str
    image: bytes
    tags: tuple[str, ...] = ()


@dataclass(slots=True)
class ParsedEdits:
    rows: list[EditRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


class BundleRejected(ValueError):
    """A bundle that cannot be read at all."""


class _TooLarge(Exception):
    """A file in a bundle over MAX_BUNDLE_FILE_BYTES; it is not read."""


def parse_edit_zip(data: bytes) -> ParsedEdits:
    """Read editing prompts from a zip holding manifest.jsonl and the images it names.

    Nothing is extracted to disk; the sizes the zip declares are checked before anything is
    decompressed, so a zip bomb is refused instead of filling memory.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BundleRejected("The file is not a zip archive.") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) > MAX_BUNDLE_FILES:
            raise BundleRejected(f"The zip holds more than {MAX_BUNDLE_FILES} files.")
        if sum(info.file_size for info in members) > MAX_BUNDLE_BYTES:
            raise BundleRejected(f"The zip unpacks to more than {MAX_BUNDLE_BYTES // 2**20} MB.")
        sizes = {info.filename: info.file_size for info in members}

        def read(name: str) -> bytes | None:
            if name not in sizes:
                return None
            if sizes[name] > MAX_BUNDLE_FILE_BYTES:
                raise _TooLarge(name)
            try:
                return archive.read(name)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise BundleRejected(f"'{name}' in the zip is damaged ({exc}).") from None

        return _parse_bundle(list(sizes), read)


def parse_edit_folder(folder: Path) -> ParsedEdits:
    """Read editing prompts from a folder holding manifest.jsonl and the images it names."""
    root = folder.resolve()
    names = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]

    def read(name: str) -> bytes | None:
        path = (root / name).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        if path.stat().st_size > MAX_BUNDLE_FILE_BYTES:
            raise _TooLarge(name)
        return path.read_bytes()

    return _parse_bundle(names, read)


def _parse_bundle(names: list[str], read: Callable[[str], bytes | None]) -> ParsedEdits:
    manifests = sorted(
        (name for name in names if PurePosixPath(name).name == MANIFEST),
        key=lambda name: name.count("/"),
    )
    if not manifests:
        raise BundleRejected(f"No {MANIFEST} found: it lists one prompt per line.")
    manifest = manifests[0]
    base = PurePosixPath(manifest).parent
    try:
        text = (read(manifest) or b"").decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BundleRejected(f"{MANIFEST} is not UTF-8 text.") from None
    parsed = ParsedEdits()
    for number, item in _json_lines(text, parsed.problems, example='{"image": ...}'):
        instruction, image_name = item.get("instruction"), item.get("image")
        if not isinstance(instruction, str) or not instruction.strip():
            parsed.problems.append((number, "the instruction is empty"))
            continue
        if not isinstance(image_name, str) or not image_name.strip():
            parsed.problems.append((number, "the line names no image"))
            continue
        tags = _tags(item.get("tags", ()))
        if tags is None:
            parsed.problems.append(
                (number, "tags must be a list of words or a comma-separated text")
            )
            continue
        try:
            image = (
                None if ".." in PurePosixPath(image_name).parts else read(str(base / image_name))
            )
        except _TooLarge:
            parsed.problems.append((number, f"the image '{image_name}' is larger than 20 MB"))
            continue
        if image is None:
            parsed.problems.append((number, f"the image '{image_name}' is not in the bundle"))
            continue
        parsed.rows.append(
            EditRow(
                line=number,
                instruction=" ".join(instruction.split()),
                image_name=image_name,
                image=image,
                tags=tags,
            )
        )
    return parsed
