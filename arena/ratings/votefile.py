"""Vote files: JSON Lines in the format the public arena analysis notebooks read. No Django here.

One vote per line, fields in this order:

    {"model_a": "...", "model_b": "...", "winner": "model_a", "tstamp": 1730000000.5,
     "arena": "t2i", "prompt_id": 12, "judge": "arena_user_3f2a...", "categories": ["counting"]}

`model_a` was shown on the left; `winner` is one of "model_a", "model_b", "tie" and
"tie (bothbad)"; `tstamp` is Unix seconds; `judge` is an anonymised voter id; `categories` are
the slugs of the categories the prompt belongs to (each has a leaderboard of its own).

`write_votes` makes such a file (`manage.py export_votes`); `compute_from_file` turns one back
into the leaderboard the site shows (`manage.py ratings_compute`), or a category's board.
Reading a million lines with json.loads takes seconds, so the reader maps the file and decodes
only the three fields it needs (more to select an arena or a category) with msgspec, a chunk of
lines at a time, into small integer arrays for the count.
msgspec holds the GIL while it decodes, so a big file is read by two processes, one per half,
each counting its half; count tables add up exactly (`combine_counts`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import mmap
import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import suppress
from datetime import datetime
from typing import IO, Any, Literal

import msgspec
import numpy as np

from arena.ratings.engine import (
    DEFAULT_BOOTSTRAP,
    DEFAULT_SEED,
    WINNER_LABELS,
    VoteCounts,
    combine_counts,
    compute_leaderboard,
    count_votes,
)

Winner = Literal["model_a", "model_b", "tie", "tie (bothbad)"]
FIELDS = ("model_a", "model_b", "winner", "tstamp", "arena", "prompt_id", "judge", "categories")
CHUNK_BYTES = 8 << 20
PARALLEL_BYTES = 32 << 20  # files at least this big are read by two processes
WRITE_BATCH = 10_000

_OUTCOME = {label: code for code, label in enumerate(WINNER_LABELS)}


class VoteLine(msgspec.Struct, gc=False):
    """One line of a vote file, as written."""

    model_a: str
    model_b: str
    winner: Winner
    tstamp: float
    arena: str
    prompt_id: int | str
    judge: str
    categories: list[str] = []


class VoteFileError(ValueError):
    """A vote file line that cannot be used; the message names the file and the line."""

    def __init__(self, path: str | os.PathLike[str], line: int, problem: str) -> None:
        super().__init__(f"{os.fspath(path)}, line {line}: {problem}")
        self.path = os.fspath(path)
        self.line = line
        self.problem = problem

    def __reduce__(self) -> tuple[type[VoteFileError], tuple[str, int, str]]:
        # So that the error of a half read in another process comes back whole.
        return VoteFileError, (self.path, self.line, self.problem)


def anonymous_judge(voter_key: str, *, secret: str) -> str:
    """A stable voter id for exports that cannot be traced back without `secret`."""
    digest = hmac.new(secret.encode(), voter_key.encode(), hashlib.sha256).hexdigest()
    return f"arena_user_{digest[:16]}"


def write_votes(
    out: IO[bytes], votes: Iterable[VoteLine | Mapping[str, Any] | Sequence[Any]]
) -> int:
    """Write votes as JSON Lines; returns how many were written.

    A vote is a VoteLine, a mapping with the FIELDS as keys, or a sequence in FIELDS order;
    `categories` may be left out (none). `tstamp` may be a datetime (aware) or Unix seconds.
    """
    encoder = msgspec.json.Encoder()
    written = 0
    batch: list[VoteLine] = []
    for vote in votes:
        batch.append(_vote_line(vote))
        if len(batch) == WRITE_BATCH:
            out.write(encoder.encode_lines(batch))
            written += len(batch)
            batch.clear()
    out.write(encoder.encode_lines(batch))
    return written + len(batch)


def _vote_line(vote: VoteLine | Mapping[str, Any] | Sequence[Any]) -> VoteLine:
    if isinstance(vote, VoteLine):
        line = vote
    elif isinstance(vote, Mapping):
        line = VoteLine(**{field: vote[field] for field in FIELDS if field in vote})
    else:
        line = VoteLine(*vote)
    if line.winner not in _OUTCOME:
        raise ValueError(f"winner must be one of {WINNER_LABELS}, not {line.winner!r}")
    if line.model_a == line.model_b:
        raise ValueError(f"a model cannot face itself ({line.model_a!r})")
    if isinstance(line.tstamp, datetime):
        return msgspec.structs.replace(line, tstamp=line.tstamp.timestamp())
    return line


def read_counts(
    path: str | os.PathLike[str], *, arena: str | None = None, category: str | None = None
) -> VoteCounts:
    """Aggregate a vote file (only the votes of `arena`, and of `category`, if given) into a
    count table.

    Raises VoteFileError naming the first line that is not a valid vote.
    """
    data = _mapped(path)
    if len(data) < PARALLEL_BYTES or not _can_fork():
        return _count_span(path, data, 0, len(data), arena, category)
    middle = _line_end(data, len(data) // 2)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as helper:
        second = helper.submit(_count_file_span, path, middle, len(data), arena, category)
        first = _count_span(path, data, 0, middle, arena, category)  # its errors come first
        return combine_counts(first, second.result())


def _can_fork() -> bool:
    # Forking a process that runs other threads can deadlock the child (a lock held at the
    # fork stays held): a threaded caller, such as a worker, reads the file alone.
    return (
        (os.cpu_count() or 1) > 1
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def _count_file_span(
    path: str | os.PathLike[str], start: int, end: int, arena: str | None, category: str | None
) -> VoteCounts:
    return _count_span(path, _mapped(path), start, end, arena, category)


def _count_span(
    path: str | os.PathLike[str],
    data: mmap.mmap | bytes,
    start: int,
    end: int,
    arena: str | None,
    category: str | None,
) -> VoteCounts:
    """The count table of the lines in data[start:end] (whole lines)."""
    any_model = _decoder(str, arena, category)
    known_models: msgspec.json.Decoder | None = None
    index: dict[str, int] = {}
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for offset, chunk in _chunks(data, start, end):
        votes = None
        if known_models is not None:
            # Decoding names as a Literal of the models seen so far is a third faster and
            # shares one string per model; a new model makes it fail, and the chunk is decoded
            # again with plain strings.
            with suppress(msgspec.MsgspecError):
                votes = known_models.decode_lines(chunk)
        if votes is None:
            try:
                votes = any_model.decode_lines(chunk)
            except msgspec.MsgspecError:
                line, problem = _first_bad_line(data, offset, chunk, any_model)
                raise VoteFileError(path, line, problem) from None
            for vote in votes:
                index.setdefault(vote.model_a, len(index))
                index.setdefault(vote.model_b, len(index))
            known_models = _decoder(Literal[tuple(index)], arena, category)
        left = _small_ints([index[vote.model_a] for vote in votes])
        right = _small_ints([index[vote.model_b] for vote in votes])
        outcome = _small_ints([_OUTCOME[vote.winner] for vote in votes])
        if (self_play := np.flatnonzero(left == right)).size:
            line = _line_of_vote(data, offset, chunk, int(self_play[0]))
            raise VoteFileError(path, line, "model_a and model_b are the same model")
        if arena is not None or category is not None:
            kept = np.array(
                [
                    (arena is None or vote.arena == arena)
                    and (category is None or category in vote.categories)
                    for vote in votes
                ],
                dtype=bool,
            )
            left, right, outcome = left[kept], right[kept], outcome[kept]
        parts.append((left, right, outcome))
    columns = [np.concatenate(column) for column in zip(*parts, strict=True)] or [[], [], []]
    return count_votes(list(index), *columns)


def _small_ints(values: list[int]) -> np.ndarray:
    # bytearray turns a list of ints into an array several times faster than numpy does, as
    # long as they fit in a byte (up to 256 models).
    try:
        return np.frombuffer(bytearray(values), dtype=np.uint8)
    except ValueError:
        return np.array(values, dtype=np.int64)


def _decoder(model: Any, arena: str | None, category: str | None) -> msgspec.json.Decoder:
    # Only the fields needed are decoded; the rest of each line is skipped. A file written
    # before votes carried their categories cannot give a category's votes: the missing field
    # is named as the line's problem.
    fields: list[tuple[str, Any]] = [("model_a", model), ("model_b", model), ("winner", Winner)]
    if arena is not None:
        fields.append(("arena", str))
    if category is not None:
        fields.append(("categories", list[str]))
    return msgspec.json.Decoder(msgspec.defstruct("Vote", fields, gc=False))


def _mapped(path: str | os.PathLike[str]) -> mmap.mmap | bytes:
    # Mapping the file saves copying it. The map is not closed explicitly: it goes with the
    # last memoryview of it, which may live on in a traceback.
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _line_end(data: mmap.mmap | bytes, offset: int) -> int:
    """The offset just past the end of the line holding data[offset] (or the end of data)."""
    end = data.find(b"\n", offset)
    return len(data) if end < 0 else end + 1


def _chunks(data: mmap.mmap | bytes, start: int, end: int) -> Iterator[tuple[int, memoryview]]:
    """(byte offset, whole lines of about CHUNK_BYTES) over data[start:end]."""
    view = memoryview(data)[:end]
    while start < end:
        stop = min(_line_end(data, min(start + CHUNK_BYTES, end) - 1), end)
        yield start, view[start:stop]
        start = stop


def _line_number(data: mmap.mmap | bytes, offset: int) -> int:
    return bytes(data[:offset]).count(b"\n") + 1


def _lines(data: mmap.mmap | bytes, start: int, chunk: memoryview) -> Iterator[tuple[int, bytes]]:
    """(line number, text) of the non-blank lines of a chunk."""
    for number, text in enumerate(bytes(chunk).split(b"\n"), start=_line_number(data, start)):
        if text.strip():
            yield number, text


def _first_bad_line(
    data: mmap.mmap | bytes, start: int, chunk: memoryview, decoder: msgspec.json.Decoder
) -> tuple[int, str]:
    for number, text in _lines(data, start, chunk):
        try:
            decoder.decode(text)
        except msgspec.MsgspecError as exc:
            return number, str(exc)
    raise AssertionError("decode_lines failed on a chunk whose every line decodes")


def _line_of_vote(data: mmap.mmap | bytes, start: int, chunk: memoryview, item: int) -> int:
    # decode_lines skips blank lines, so vote `item` of a chunk is its item-th non-blank line.
    return next(itertools.islice(_lines(data, start, chunk), item, None))[0]


def compute_from_file(
    path: str | os.PathLike[str],
    *,
    arena: str | None = None,
    category: str | None = None,
    bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    min_votes: int = 0,
) -> list[dict[str, Any]]:
    """The leaderboard rows of a vote file, exactly as the site computes them from its votes."""
    counts = read_counts(path, arena=arena, category=category)
    return compute_leaderboard(counts, bootstrap=bootstrap, seed=seed, min_votes=min_votes).rows()


def rows_json(rows: list[dict[str, Any]]) -> str:
    """Leaderboard rows as the JSON that `ratings_compute` prints."""
    return msgspec.json.format(msgspec.json.encode(rows), indent=2).decode()
