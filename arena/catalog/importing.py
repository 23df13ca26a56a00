"""Reading prompts a curator pastes or uploads: one per line, CSV, or JSON Lines.

Every bad line is reported with its line number and the reason; good lines are kept.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import PurePath

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
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            parsed.problems.append((number, f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(item, dict):
            parsed.problems.append((number, 'each line must be an object like {"text": "..."}'))
            continue
        parsed.add(number, item.get("text"), item.get("tags", ()))
    return parsed


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
