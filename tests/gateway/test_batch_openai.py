"""OpenAI's Batch API for images, against the loopback fake of its documented format."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway import ErrorKind, ImageRequest
from gateway.batch import BatchState
from gateway.errors import GatewayError
from gateway.providers.batchbase import line_outcome
from gateway.providers.openai_batch import read_line
from tests.gateway.conftest import catalog
from tests.gateway.fakes import IMAGE, FakeOpenAIBatch, fails

CATALOG = catalog(
    "gpt-image-1",
    {
        "provider": "openai",
        "price": "0.042",
        "batch_price": "0.021",
        "sizes": ["1024x1024", "1536x1024", "1024x1536"],
    },
)
SUBMITTED_AT = datetime.now(UTC) - timedelta(minutes=5)
LABEL = "0b9f7c1e-5d1a-4c3e-9a57-2f0c1d2e3f40"


@pytest.fixture
def batches(make_batches, openai_batch: FakeOpenAIBatch):
    return make_batches(openai_batch.env(), catalog=CATALOG)


def requests(*prompts: str) -> dict[str, ImageRequest]:
    return {
        f"g{index}": ImageRequest(model="gpt-image-1", prompt=prompt, size="1000x1000")
        for index, prompt in enumerate(prompts)
    }


def submit_and_finish(batches, openai_batch, *prompts: str):
    offering = batches.offering("gpt-image-1")
    submission = batches.submit(offering, requests(*prompts), label=LABEL)
    keys = [f"g{index}" for index in range(len(prompts))]
    poll = None
    for _ in range(len(openai_batch.statuses)):
        poll = batches.poll(offering, submission.batch_id, keys=keys, submitted_at=SUBMITTED_AT)
    return submission, poll


def test_submit_uploads_one_jsonl_line_per_request_then_creates_the_batch(batches, openai_batch):
    offering = batches.offering("gpt-image-1")
    submission = batches.submit(offering, requests("a red cube", "a blue sphere"), label=LABEL)

    lines = openai_batch.lines(submission.batch_id)
    assert [line["custom_id"] for line in lines] == ["g0", "g1"]
    assert {line["url"] for line in lines} == {"/v1/images/generations"}
    assert {line["method"] for line in lines} == {"POST"}
    assert lines[1]["body"] == {
        "model": "gpt-image-1",
        "prompt": "a blue sphere",
        "n": 1,
        "size": "1024x1024",
    }
    upload = openai_batch.seen("/v1/files", "POST")[0]
    assert upload.headers["Authorization"] == "Bearer sk-test"


def test_a_batch_in_progress_has_no_lines_yet(batches, openai_batch):
    offering = batches.offering("gpt-image-1")
    submission = batches.submit(offering, requests("a red cube"), label=LABEL)

    poll = batches.poll(offering, submission.batch_id, keys=["g0"], submitted_at=SUBMITTED_AT)

    assert poll.state is BatchState.RUNNING
    assert poll.lines == ()


def test_a_completed_batch_gives_images_at_the_batch_price_and_failed_lines_as_errors(
    batches, openai_batch
):
    openai_batch.failing = {"refused": "policy", "unlucky": "server"}

    _, poll = submit_and_finish(batches, openai_batch, "a red cube", "refused", "unlucky")

    assert poll.state is BatchState.COMPLETED
    made, refused, unlucky = poll.lines
    assert made.images == [IMAGE]
    assert made.attempt.ok
    assert made.attempt.batch
    assert made.attempt.cost == Decimal("0.021")
    assert made.attempt.total_ms >= 5 * 60 * 1000
    assert refused.attempt.error_kind is ErrorKind.CONTENT_POLICY
    assert unlucky.attempt.error_kind is ErrorKind.SERVER_ERROR
    assert unlucky.attempt.error_kind.retryable
    assert [line.attempt.cost for line in (refused, unlucky)] == [Decimal(0), Decimal(0)]
    assert not refused.images
    assert all(line.attempt.batch for line in poll.lines)


def test_an_expired_batch_keeps_the_lines_that_ran_and_fails_the_rest(batches, openai_batch):
    openai_batch.statuses = ("in_progress", "expired")
    openai_batch.unfinished = {"too late"}

    _, poll = submit_and_finish(batches, openai_batch, "a red cube", "too late")

    assert poll.state is BatchState.EXPIRED
    done, late = poll.lines
    assert done.ok
    assert done.images == [IMAGE]
    assert not late.ok
    assert late.attempt.error_kind is ErrorKind.TIMEOUT
    assert "completion window" in late.attempt.error


def test_a_failed_batch_fails_every_line_with_the_batch_error(batches, openai_batch):
    openai_batch.statuses = ("validating", "failed")

    _, poll = submit_and_finish(batches, openai_batch, "a red cube", "a blue sphere")

    assert poll.state is BatchState.FAILED
    assert [line.ok for line in poll.lines] == [False, False]
    assert all("input file is invalid" in line.attempt.error for line in poll.lines)


def test_an_offering_takes_batches_only_with_a_batch_price_and_a_key(make_batches, openai_batch):
    no_price = catalog("gpt-image-1", {"provider": "openai", "price": "0.042"})

    assert make_batches(openai_batch.env(), catalog=CATALOG).offering("gpt-image-1") is not None
    assert make_batches(openai_batch.env(), catalog=no_price).offering("gpt-image-1") is None
    assert make_batches({}, catalog=CATALOG).offering("gpt-image-1") is None


def test_the_uploaded_file_is_jsonl(batches, openai_batch):
    offering = batches.offering("gpt-image-1")
    submission = batches.submit(offering, requests("a", "b", "c"), label=LABEL)

    text = openai_batch.files[openai_batch.batches[submission.batch_id]["input_file_id"]]
    assert text.endswith("\n")
    assert [json.loads(line)["custom_id"] for line in text.splitlines()] == ["g0", "g1", "g2"]


def test_a_batch_carries_its_label_in_metadata_and_the_file_name(batches, openai_batch):
    offering = batches.offering("gpt-image-1")
    submission = batches.submit(offering, requests("a red cube"), label=LABEL)

    (created,) = openai_batch.seen("/v1/batches", "POST")
    assert created.get_json()["metadata"] == {"source": "image-arena", "arena_batch": LABEL}
    input_file_id = openai_batch.batches[submission.batch_id]["input_file_id"]
    assert openai_batch.file_names[input_file_id] == f"arena-batch-{LABEL}.jsonl"


def test_a_batch_is_found_again_by_its_label_through_every_page(batches, openai_batch):
    openai_batch.page_limit = 2
    offering = batches.offering("gpt-image-1")
    ours = batches.submit(offering, requests("a red cube"), label=LABEL)
    for n in range(4):  # newer batches of the same account, listed first
        batches.submit(offering, requests("another"), label=f"other-{n}")

    found = batches.find(offering, LABEL, since=SUBMITTED_AT)

    assert found == ours.batch_id
    pages = openai_batch.seen("/v1/batches", "GET")
    newest_first = list(reversed(openai_batch.batches))
    # each page starts after the last id of the one before
    assert [page.args.get("after") for page in pages] == [None, newest_first[1], newest_first[3]]
    assert {page.args["limit"] for page in pages} == {"100"}


def test_a_label_no_batch_carries_is_not_found(batches, openai_batch):
    openai_batch.page_limit = 2
    offering = batches.offering("gpt-image-1")
    for n in range(3):
        batches.submit(offering, requests("another"), label=f"other-{n}")

    assert batches.find(offering, LABEL, since=SUBMITTED_AT) is None
    assert len(openai_batch.seen("/v1/batches", "GET")) == 2  # every page, then has_more false


def test_an_account_with_no_batches_has_none_of_ours(batches, openai_batch):
    offering = batches.offering("gpt-image-1")

    assert batches.find(offering, LABEL, since=SUBMITTED_AT) is None


def test_finding_stops_at_a_page_made_before_the_submission_started(batches, openai_batch):
    openai_batch.page_limit = 1
    offering = batches.offering("gpt-image-1")
    for n in range(3):
        batches.submit(offering, requests("another"), label=f"other-{n}")

    later = datetime.now(UTC) + timedelta(hours=2)  # past the allowance for the clocks
    assert batches.find(offering, LABEL, since=later) is None
    assert len(openai_batch.seen("/v1/batches", "GET")) == 1


def test_a_cancelled_batch_ends_cancelled_with_its_unrun_lines_failed(batches, openai_batch):
    offering = batches.offering("gpt-image-1")
    submission = batches.submit(offering, requests("a red cube"), label=LABEL)

    batches.cancel(offering, submission.batch_id)
    poll = batches.poll(offering, submission.batch_id, keys=["g0"], submitted_at=SUBMITTED_AT)

    assert openai_batch.cancelled == [submission.batch_id]
    assert openai_batch.seen(rf"/v1/batches/{submission.batch_id}/cancel", "POST")
    assert poll.state is BatchState.CANCELLED


def test_asking_an_account_that_answers_an_error_is_no_answer(batches, openai_batch):
    openai_batch.once("/v1/batches", fails("openai/error_server", 500), method="GET")
    offering = batches.offering("gpt-image-1")

    with pytest.raises(GatewayError) as raised:
        batches.find(offering, LABEL, since=SUBMITTED_AT)

    assert raised.value.kind is ErrorKind.SERVER_ERROR


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
LINE = st.fixed_dictionaries(
    {},
    optional={
        "response": JSON
        | st.fixed_dictionaries(
            {"status_code": st.sampled_from([200, 400, 429, 500]) | JSON, "body": JSON}
        ),
        "error": JSON,
    },
)


@given(line=LINE | JSON)
def test_any_output_line_fails_alone_never_the_whole_batch(line):
    outcome = line_outcome(read_line, line, "OpenAI's batch")

    assert outcome.images or outcome.error is not None
    assert outcome.error is None or isinstance(outcome.error.kind, ErrorKind)
