"""The Gemini API's Batch Mode (inlined requests), against the loopback fake of its format."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway import ErrorKind, ImageRequest
from gateway.batch import BatchState
from gateway.errors import GatewayError
from gateway.providers.batchbase import line_outcome
from gateway.providers.gemini_batch import read_line
from tests.gateway.conftest import catalog
from tests.gateway.fakes import IMAGE, FakeGeminiBatch

MODEL = "gemini-3.1-flash-lite-image"
CATALOG = catalog(
    MODEL,
    {"provider": "vertex", "price": "0.0336", "batch_price": "0.0168"},
    {"provider": "gemini", "price": "0.0336", "batch_price": "0.0168"},
)


@pytest.fixture
def batches(make_batches, gemini_batch: FakeGeminiBatch):
    return make_batches(gemini_batch.env(), catalog=CATALOG)


def submit(batches, *prompts: str, label: str = "0b9f7c1e-5d1a-4c3e-9a57-2f0c1d2e3f40"):
    offering = batches.offering(MODEL)
    requests = {
        f"g{index}": ImageRequest(model=MODEL, prompt=prompt, size="1024x1024", seed=7 + index)
        for index, prompt in enumerate(prompts)
    }
    return offering, batches.submit(offering, requests, label=label), list(requests)


def test_submit_inlines_one_generate_content_request_per_key(batches, gemini_batch):
    offering, submission, _ = submit(batches, "a red cube", "a blue sphere")

    assert offering.provider == "gemini"  # Vertex's batch jobs are not spoken
    assert submission.batch_id.startswith("batches/")
    inlined = gemini_batch.requests(submission.batch_id)
    assert [item["metadata"] for item in inlined] == [{"key": "g0"}, {"key": "g1"}]
    request = inlined[1]["request"]
    assert request["contents"][0]["parts"] == [{"text": "a blue sphere"}]
    assert request["generationConfig"]["seed"] == 8
    assert request["generationConfig"]["imageConfig"] == {"aspectRatio": "1:1"}
    sent = gemini_batch.seen(rf"/v1beta/models/{MODEL}:batchGenerateContent", "POST")[0]
    assert sent.headers["x-goog-api-key"] == "gemini-test"


def test_a_pending_batch_has_no_lines_yet(batches):
    offering, submission, keys = submit(batches, "a red cube")

    poll = batches.poll(offering, submission.batch_id, keys=keys, submitted_at=datetime.now(UTC))

    assert poll.state is BatchState.RUNNING
    assert poll.lines == ()


def test_a_succeeded_batch_gives_images_and_failed_lines(batches, gemini_batch):
    gemini_batch.failing = {"unlucky"}
    offering, submission, keys = submit(batches, "a red cube", "unlucky")

    polls = [
        batches.poll(offering, submission.batch_id, keys=keys, submitted_at=datetime.now(UTC))
        for _ in range(3)
    ]

    assert [poll.state for poll in polls] == [
        BatchState.RUNNING,
        BatchState.RUNNING,
        BatchState.COMPLETED,
    ]
    made, unlucky = polls[-1].lines
    assert made.images == [IMAGE]
    assert made.attempt.cost == Decimal("0.0168")
    assert made.attempt.batch
    assert not unlucky.ok
    assert unlucky.attempt.error_kind is ErrorKind.SERVER_ERROR
    assert "Internal error" in unlucky.attempt.error


def test_an_expired_batch_fails_every_line_so_each_can_run_directly(
    make_batches, httpserver, release
):
    gemini_batch = FakeGeminiBatch(httpserver, release, states=("BATCH_STATE_EXPIRED",))
    batches = make_batches(gemini_batch.env(), catalog=CATALOG)
    offering, submission, keys = submit(batches, "a red cube", "a blue sphere")

    poll = batches.poll(offering, submission.batch_id, keys=keys, submitted_at=datetime.now(UTC))

    assert poll.state is BatchState.EXPIRED
    assert [line.attempt.error_kind for line in poll.lines] == [ErrorKind.TIMEOUT] * 2
    assert all(line.attempt.cost == 0 for line in poll.lines)


def test_an_unknown_batch_is_an_error_not_a_state(batches):
    offering = batches.offering(MODEL)

    with pytest.raises(GatewayError) as raised:
        batches.poll(offering, "batches/nope", keys=["g0"], submitted_at=datetime.now(UTC))

    assert raised.value.http_status == 404


def test_a_batch_is_shown_by_its_model_and_label(batches, gemini_batch):
    _, submission, _ = submit(batches, "a red cube", label="ours")

    assert gemini_batch.batches[submission.batch_id]["display_name"] == (
        f"image-arena {MODEL} ours"
    )


def test_a_batch_is_found_again_by_its_label_through_every_page(batches, gemini_batch):
    gemini_batch.page_limit = 2
    for n in range(4):  # older batches of the same project, listed first here
        submit(batches, "another", label=f"other-{n}")
    offering, ours, _ = submit(batches, "a red cube", label="ours")

    found = batches.find(offering, "ours", since=datetime.now(UTC))

    assert found == ours.batch_id
    pages = gemini_batch.seen("/v1beta/batches", "GET")
    assert [page.args.get("pageToken") for page in pages] == [None, "page-2", "page-4"]
    assert {page.args["pageSize"] for page in pages} == {"100"}
    assert {page.headers["x-goog-api-key"] for page in pages} == {"gemini-test"}


def test_a_label_no_batch_carries_is_not_found(batches, gemini_batch):
    gemini_batch.page_limit = 2
    for n in range(3):
        offering, _, _ = submit(batches, "another", label=f"other-{n}")

    assert batches.find(offering, "ours", since=datetime.now(UTC)) is None
    assert len(gemini_batch.seen("/v1beta/batches", "GET")) == 2  # until no nextPageToken


def test_a_label_only_matches_whole(batches, gemini_batch):
    offering, _, _ = submit(batches, "another", label="ours-and-more")

    assert batches.find(offering, "ours", since=datetime.now(UTC)) is None


def test_a_cancelled_batch_ends_cancelled_so_each_line_can_run_directly(batches, gemini_batch):
    offering, submission, keys = submit(batches, "a red cube")

    batches.cancel(offering, submission.batch_id)
    poll = batches.poll(offering, submission.batch_id, keys=keys, submitted_at=datetime.now(UTC))

    assert gemini_batch.cancelled == [submission.batch_id]
    assert gemini_batch.seen(rf"/v1beta/{submission.batch_id}:cancel", "POST")
    assert poll.state is BatchState.CANCELLED
    assert [line.ok for line in poll.lines] == [False]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(item=st.fixed_dictionaries({}, optional={"response": JSON, "error": JSON}) | JSON)
def test_any_inlined_response_fails_alone_never_the_whole_batch(item):
    outcome = line_outcome(lambda line: read_line(MODEL, line), item, "Gemini's batch")

    assert outcome.images or outcome.error is not None
