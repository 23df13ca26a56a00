"""Vote files: the export format, reading it back, and computing the leaderboard from it."""

import json
import subprocess
import sys
from datetime import UTC, datetime

import numpy as np
import pytest

from arena.ratings import votefile
from arena.ratings.engine import WINNER_LABELS, compute_leaderboard, count_votes
from arena.ratings.votefile import (
    VoteFileError,
    VoteLine,
    anonymous_judge,
    compute_from_file,
    read_counts,
    rows_json,
    write_votes,
)
from tests.ratings.synthetic import bt_votes

MODELS = ["flux-dev", "imagen-4", "sd-1.5", "dall-e-3", "new-model"]


def synthetic_export(path, count=4_000, seed=0, arena="t2i"):
    """Votes as the site would export them, and the count table the site would build."""
    rng = np.random.default_rng(seed)
    left, right, outcome = bt_votes(rng, rng.normal(0, 100, 5), count, draw_share=0.2)
    lines = [
        {
            "model_a": MODELS[a],
            "model_b": MODELS[b],
            "winner": WINNER_LABELS[o],
            "tstamp": 1_730_000_000.0 + i,
            "arena": arena,
            "prompt_id": i % 50,
            "judge": anonymous_judge(f"session-{i % 300}", secret="s3cret"),
        }
        for i, (a, b, o) in enumerate(zip(left, right, outcome, strict=True))
    ]
    with open(path, "wb") as out:
        write_votes(out, lines)
    return lines, count_votes(MODELS, left, right, outcome)


def test_each_line_has_the_public_notebook_fields_in_order(tmp_path):
    path = tmp_path / "votes.jsonl"
    with open(path, "wb") as out:
        write_votes(out, [("a", "b", "tie (bothbad)", 1.5, "edit", 7, "arena_user_x")])
    line = path.read_text()
    assert line.endswith("\n")
    assert list(json.loads(line)) == [
        "model_a",
        "model_b",
        "winner",
        "tstamp",
        "arena",
        "prompt_id",
        "judge",
        "categories",
    ]
    assert json.loads(line)["winner"] == "tie (bothbad)"
    assert json.loads(line)["categories"] == []


def test_writer_takes_mappings_tuples_and_datetimes(tmp_path):
    when = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    path = tmp_path / "votes.jsonl"
    rows = [
        {"model_a": "a", "model_b": "b", "winner": "model_a", "tstamp": when, "arena": "t2i",
         "prompt_id": 1, "judge": "j1"},
        ("b", "a", "model_b", when.timestamp(), "t2i", 2, "j2"),
        VoteLine("a", "b", "tie", 3.0, "t2i", "p-3", "j3"),
    ]  # fmt: skip
    with open(path, "wb") as out:
        assert write_votes(out, rows) == 3
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["tstamp"] == when.timestamp() == lines[1]["tstamp"]
    assert [line["prompt_id"] for line in lines] == [1, 2, "p-3"]


def test_writer_refuses_an_unknown_winner_and_self_play(tmp_path):
    with open(tmp_path / "votes.jsonl", "wb") as out:
        with pytest.raises(ValueError, match="winner"):
            write_votes(out, [("a", "b", "left", 1.0, "t2i", 1, "j")])
        with pytest.raises(ValueError, match="itself"):
            write_votes(out, [("a", "a", "tie", 1.0, "t2i", 1, "j")])


def test_reading_an_export_gives_back_the_sites_count_table(tmp_path):
    _, counts = synthetic_export(tmp_path / "votes.jsonl")
    read = read_counts(tmp_path / "votes.jsonl")
    assert read.models == counts.models
    np.testing.assert_array_equal(read.table, counts.table)


def test_computing_from_the_export_gives_exactly_the_sites_numbers(tmp_path):
    _, counts = synthetic_export(tmp_path / "votes.jsonl")
    site = compute_leaderboard(counts, bootstrap=100, seed=11, min_votes=100).rows()
    assert compute_from_file(tmp_path / "votes.jsonl", seed=11, min_votes=100) == site
    assert json.loads(rows_json(site)) == site


def test_files_read_in_several_chunks_with_models_appearing_late(tmp_path, monkeypatch):
    path = tmp_path / "votes.jsonl"
    lines, counts = synthetic_export(path, count=3_000, seed=1)
    late = [dict(lines[0], model_a="late-model", winner="model_a") for _ in range(5)]
    with open(path, "ab") as out:
        write_votes(out, late)
    monkeypatch.setattr(votefile, "CHUNK_BYTES", 10_000)
    read = read_counts(path)
    assert "late-model" in read.models
    assert read.total == counts.total + 5
    assert read.votes[read.models.index("late-model")] == 5


# A threaded process reads alone (forking it could deadlock), and the test process runs other
# tests' threads, so the two-process read is checked in a fresh interpreter, as the command runs.
READ_IN_TWO = """
import json, sys
from arena.ratings import votefile
votefile.PARALLEL_BYTES, votefile.CHUNK_BYTES = 1, 20_000
assert votefile._can_fork()
try:
    counts = votefile.read_counts(sys.argv[1], arena=sys.argv[2] or None)
except votefile.VoteFileError as error:
    print(json.dumps({"line": error.line, "error": str(error)}))
else:
    print(json.dumps({"models": counts.models, "table": counts.table.tolist()}))
"""


def read_in_two(path, arena=None):
    done = subprocess.run(
        [sys.executable, "-c", READ_IN_TWO, str(path), arena or ""],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_big_files_are_read_in_two_processes_with_the_same_result(tmp_path):
    # Models that only the second half knows, and an arena filter, must survive the merge.
    path = tmp_path / "votes.jsonl"
    lines, counts = synthetic_export(path, count=3_000, seed=4)
    late = [dict(lines[0], model_a="late-model", winner="model_b") for _ in range(7)]
    other_arena = [dict(line, arena="edit") for line in lines[:50]]
    with open(path, "ab") as out:
        write_votes(out, late + other_arena)

    halves = read_in_two(path, arena="t2i")

    alone = read_counts(path, arena="t2i")
    assert tuple(halves["models"]) == alone.models
    np.testing.assert_array_equal(np.array(halves["table"]), alone.table)
    assert alone.total == counts.total + 7


@pytest.mark.parametrize("bad_at", [10, 2_990])
def test_a_bad_line_in_either_half_is_reported_with_its_number(tmp_path, bad_at):
    path = tmp_path / "votes.jsonl"
    synthetic_export(path, count=3_000, seed=5)
    text = path.read_bytes().split(b"\n")
    text[bad_at - 1] = b'{"model_a": "a", "model_b": "b", "winner": "left"}'
    path.write_bytes(b"\n".join(text))

    error = read_in_two(path)

    assert error["line"] == bad_at
    assert "winner" in error["error"]


def test_arena_filter_keeps_only_that_arena(tmp_path):
    t2i, _ = synthetic_export(tmp_path / "t2i.jsonl", count=1_000, seed=2, arena="t2i")
    edit, edit_counts = synthetic_export(tmp_path / "edit.jsonl", count=700, seed=3, arena="edit")
    mixed = tmp_path / "mixed.jsonl"
    with open(mixed, "wb") as out:
        write_votes(out, [line for pair in zip(t2i, edit, strict=False) for line in pair])
    read = read_counts(mixed, arena="edit")
    assert read.total == 700
    np.testing.assert_array_equal(read.table, edit_counts.table)
    assert read_counts(mixed).total == 1_400


def test_blank_lines_and_windows_line_ends_are_accepted(tmp_path):
    path = tmp_path / "votes.jsonl"
    line = '{"model_a": "a", "model_b": "b", "winner": "model_a"}'
    path.write_bytes(f"{line}\r\n\n{line}\r\n   \n{line}".encode())
    assert read_counts(path).total == 3


@pytest.mark.parametrize(
    ("bad_line", "problem"),
    [
        ('{"model_a": "a", "model_b": "b", "winner": "model_a",', "malformed|truncated"),
        ('{"model_a": "a", "model_b": "b", "winner": "left"}', "winner"),
        ('{"model_a": "a", "winner": "tie"}', "model_b"),
        ('{"model_a": "a", "model_b": "a", "winner": "tie"}', "same model"),
    ],
)
def test_a_bad_line_is_reported_with_its_number(tmp_path, monkeypatch, bad_line, problem):
    good = '{"model_a": "a", "model_b": "b", "winner": "model_a", "arena": "t2i"}'
    path = tmp_path / "votes.jsonl"
    path.write_text("\n".join([good] * 40 + [""] + [good] * 12 + [bad_line] + [good] * 30) + "\n")
    monkeypatch.setattr(votefile, "CHUNK_BYTES", 1_000)
    with pytest.raises(VoteFileError, match=problem) as error:
        read_counts(path)
    assert error.value.line == 54
    assert "line 54" in str(error.value)


def test_an_empty_file_is_an_empty_leaderboard(tmp_path):
    path = tmp_path / "votes.jsonl"
    path.write_bytes(b"")
    assert compute_from_file(path) == []


def test_judge_ids_are_stable_and_depend_on_the_secret():
    assert anonymous_judge("session-1", secret="a") == anonymous_judge("session-1", secret="a")
    assert anonymous_judge("session-1", secret="a") != anonymous_judge("session-1", secret="b")
    assert anonymous_judge("session-1", secret="a") != anonymous_judge("session-2", secret="a")
    assert "session" not in anonymous_judge("session-1", secret="a")


def test_files_with_more_models_than_fit_in_a_byte(tmp_path):
    path = tmp_path / "votes.jsonl"
    names = [f"model-{i:03d}" for i in range(300)]
    with open(path, "wb") as out:
        write_votes(
            out,
            [(names[i], names[(i + 1) % 300], "model_a", 1.0, "t2i", 1, "j") for i in range(300)],
        )
    read = read_counts(path)
    assert read.models == tuple(names)
    assert read.votes.tolist() == [2] * 300
    assert read.table[299, 0, 0] == 1
