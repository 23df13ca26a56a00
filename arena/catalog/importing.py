"""Reading prompts a curator pastes or uploads: one per line, CSV, or JSON Lines for text
prompts; a zip or a folder with a JSON Lines manifest and images for editing prompts.

Every bad line is reported with its line number and the reason; good lines are kept.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

from gateway.catalog import DEFAULT_MAX_PROMPT_CHARS

# A competition prompt is sent to every model: it keeps to the cap no model goes below (a test
# holds the catalog to it).
MAX_PROMPT_CHARS = DEFAULT_MAX_PROMPT_CHARS
MAX_TAGS = 20


def unstorable(text: str) -> bool:
    """Whether the text holds what no database or provider takes: a NUL, a lone surrogate."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def text_problem(text: object, *, what: str = "prompt text") -> str | None:
    """Why this cannot be a prompt's text (or an instruction), or None if it can."""
    if not isinstance(text, str) or not text.strip():
        return f"the {what} is empty"
    if unstorable(text):
        return f"the {what} holds a NUL character or a lone surrogate, which are not text"
    if len(" ".join(text.split())) > MAX_PROMPT_CHARS:
        return f"the {what} is longer than {MAX_PROMPT_CHARS} characters"
    return None


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
        problem = text_problem(text)
        if problem:
            self.problems.append((line, problem))
            return
        parsed_tags = tags_read(tags)
        if parsed_tags is None:
            self.problems.append((line, TAGS_PROBLEM))
            return
        self.rows.append(PromptRow(line=line, text=" ".join(str(text).split()), tags=parsed_tags))


TAGS_PROBLEM = "tags must be a list of words or a comma-separated text"


def tags_read(value: object) -> tuple[str, ...] | None:
    """A list of words, or a text of them separated by , ; or |, as tags; None if it is not."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items: list[object] = list(value.replace(";", ",").replace("|", ",").split(","))
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return None
    if not all(isinstance(item, str) and not unstorable(item) for item in items):
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
    try:
        fields = [name.strip().lower() for name in reader.fieldnames or []]
    except csv.Error as exc:
        parsed.problems.append((1, f"the CSV header cannot be read ({exc})"))
        return parsed
    if "text" not in fields:
        parsed.problems.append((1, "the CSV needs a header row with a 'text' column (and 'tags')"))
        return parsed
    reader.fieldnames = fields
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return parsed
        except csv.Error as exc:  # a field over csv's size limit, a stray quote
            # The line that failed is not counted yet.
            parsed.problems.append(
                (reader.line_num + 1, f"the CSV cannot be read from here ({exc})")
            )
            return parsed
        line = reader.line_num
        if None in row:
            parsed.problems.append((line, "this row has more columns than the header"))
            continue
        parsed.add(line, row.get("text"), row.get("tags") or "")


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
        except (ValueError, RecursionError):  # a number of 5,000 digits; [[[[... nested deep
            problems.append((number, "not valid JSON (a number too long or nesting too deep)"))
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

MAX_TEXT_IMPORT_BYTES = 5 * 1024 * 1024  # a pasted or uploaded file of text prompts
MAX_ZIP_IMPORT_BYTES = 500 * 1024 * 1024  # a zip of editing prompts, as uploaded
MANIFEST = "manifest.jsonl"
MAX_BUNDLE_FILES = 2000
MAX_BUNDLE_FILE_BYTES = 20 * 1024 * 1024
MAX_BUNDLE_BYTES = 1024 * 1024 * 1024


_TOO_LARGE = f"it is larger than {MAX_BUNDLE_FILE_BYTES // 2**20} MB"


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


class _Unreadable(Exception):
    """A file in a bundle that cannot be read: too large, encrypted, damaged; with the reason."""


def parse_edit_zip(data: bytes) -> ParsedEdits:
    """Read editing prompts from a zip holding manifest.jsonl and the images it names.

    Nothing is extracted to disk; the sizes the zip declares are checked before anything is
    decompressed, so a zip bomb is refused instead of filling memory.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    # Names not UTF-8 are a ValueError; a "version needed to extract" from the future is a
    # NotImplementedError.
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError):
        raise BundleRejected("The file is not a zip archive, or it is damaged.") from None
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
                raise _Unreadable(_TOO_LARGE)
            try:
                return archive.read(name)
            except NotImplementedError:  # a RuntimeError too: before the next clause
                raise _Unreadable(
                    "it is compressed with a method this reader lacks; use plain zip (deflate)"
                ) from None
            except RuntimeError:  # zipfile's word for "encrypted, password required"
                raise _Unreadable("it is encrypted; zip it again without a password") from None
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
                raise _Unreadable(f"it is damaged ({exc})") from None

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
            raise _Unreadable(_TOO_LARGE)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise _Unreadable(f"it cannot be read ({exc.strerror})") from None

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
    except _Unreadable as exc:
        raise BundleRejected(f"{MANIFEST} cannot be read: {exc}.") from None
    except UnicodeDecodeError:
        raise BundleRejected(f"{MANIFEST} is not UTF-8 text.") from None
    parsed = ParsedEdits()
    for number, item in _json_lines(text, parsed.problems, example='{"image": ...}'):
        instruction, image_name = item.get("instruction"), item.get("image")
        problem = text_problem(instruction, what="instruction")
        if problem:
            parsed.problems.append((number, problem))
            continue
        if not isinstance(image_name, str) or not image_name.strip():
            parsed.problems.append((number, "the line names no image"))
            continue
        if unstorable(image_name):
            parsed.problems.append((number, "the image's name holds a NUL or a lone surrogate"))
            continue
        tags = tags_read(item.get("tags", ()))
        if tags is None:
            parsed.problems.append((number, TAGS_PROBLEM))
            continue
        try:
            image = (
                None if ".." in PurePosixPath(image_name).parts else read(str(base / image_name))
            )
        except _Unreadable as exc:
            parsed.problems.append((number, f"the image '{image_name}' cannot be read: {exc}"))
            continue
        if image is None:
            parsed.problems.append((number, f"the image '{image_name}' is not in the bundle"))
            continue
        parsed.rows.append(
            EditRow(
                line=number,
                instruction=" ".join(str(instruction).split()),
                image_name=image_name,
                image=image,
                tags=tags,
            )
        )
    return parsed
