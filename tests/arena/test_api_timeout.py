"""A caller of the images API may give its request a shorter deadline (X-Arena-Timeout), fewer
fallbacks (X-Arena-Max-Offerings) and fewer retries (X-Arena-Retries), never more than the
server's own."""

import json

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

import gateway
from arena.api.models import ImageJob
from arena.api.params import ApiError, request_count, request_timeout

pytestmark = pytest.mark.django_db

GENERATIONS = "/openai/v1/images/generations"
BODY = {"model": "blockworld", "prompt": "a cat", "size": "64x64"}


@pytest.fixture
def requests_seen(monkeypatch):
    seen = []
    real = gateway.generate
    monkeypatch.setattr(
        gateway,
        "generate",
        lambda request, **options: seen.append(request) or real(request, **options),
    )
    return seen


def post(key, timeout=None, **bounds):
    headers = {"Authorization": f"Bearer {key}", **bounds}
    if timeout is not None:
        headers["X-Arena-Timeout"] = timeout
    return Client().post(
        GENERATIONS, json.dumps(BODY), content_type="application/json", headers=headers
    )


def test_the_callers_deadline_reaches_the_gateway_through_the_job(key, requests_seen):
    response = post(key, "12.5")

    assert response.status_code == 200
    assert ImageJob.objects.get().timeout == 12.5
    assert [request.timeout for request in requests_seen] == [12.5]


def test_a_deadline_above_the_servers_is_cut_to_it(key, requests_seen):
    most = gateway.default_gateway().timeout

    assert post(key, str(most * 10)).status_code == 200
    assert [request.timeout for request in requests_seen] == [most]


def test_without_the_header_the_gateways_own_deadline_holds(key, requests_seen):
    assert post(key).status_code == 200
    assert [request.timeout for request in requests_seen] == [None]


@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan", "inf", "1e999"])
def test_a_deadline_that_is_not_a_positive_number_is_a_400(key, requests_seen, value):
    response = post(key, value)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "X-Arena-Timeout"
    assert "number of seconds" in error["message"]
    assert requests_seen == []
    assert not ImageJob.objects.exists()


@given(value=st.text(max_size=30))
def test_any_header_value_is_a_deadline_within_the_servers_or_a_400(value):
    outcome: float | ApiError | None
    try:
        outcome = request_timeout(value)
    except ApiError as error:
        outcome = error
    if isinstance(outcome, ApiError):
        assert (outcome.status, outcome.param) == (400, "X-Arena-Timeout")
    else:
        assert outcome is None or 0 < outcome <= gateway.default_gateway().timeout


def test_the_callers_offerings_and_retries_reach_the_gateway_through_the_job(key, requests_seen):
    bounds = {"X-Arena-Max-Offerings": "1", "X-Arena-Retries": "0"}

    assert post(key, **bounds).status_code == 200

    job = ImageJob.objects.get()
    assert (job.max_offerings, job.poll_retries) == (1, 0)
    assert [(r.max_offerings, r.poll_retries) for r in requests_seen] == [(1, 0)]


def test_offerings_and_retries_above_the_servers_are_cut_to_them(key, requests_seen):
    settings = gateway.default_gateway().settings
    bounds = {"X-Arena-Max-Offerings": "1000", "X-Arena-Retries": "99999999999999999999"}

    assert post(key, **bounds).status_code == 200
    assert [(r.max_offerings, r.poll_retries) for r in requests_seen] == [
        (settings.max_offerings, settings.poll_retries)
    ]


def test_without_the_headers_the_servers_own_bounds_hold(key, requests_seen):
    assert post(key).status_code == 200
    assert [(r.max_offerings, r.poll_retries) for r in requests_seen] == [(None, None)]


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Arena-Max-Offerings", "0"),
        ("X-Arena-Max-Offerings", "two"),
        ("X-Arena-Max-Offerings", "1.5"),
        ("X-Arena-Retries", "-1"),
        ("X-Arena-Retries", "²"),
    ],
)
def test_a_bound_that_is_not_a_whole_number_in_range_is_a_400(key, requests_seen, header, value):
    response = post(key, **{header: value})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == header
    assert "must be a whole number of" in error["message"]
    assert requests_seen == []
    assert not ImageJob.objects.exists()


@given(value=st.text(max_size=30), least=st.sampled_from([0, 1]))
def test_any_header_value_is_a_count_within_the_servers_or_a_400(value, least):
    outcome: int | ApiError | None
    try:
        outcome = request_count(value, "X-Arena-Retries", least=least, most=10)
    except ApiError as error:
        outcome = error
    if isinstance(outcome, ApiError):
        assert (outcome.status, outcome.param) == (400, "X-Arena-Retries")
    else:
        assert outcome is None or least <= outcome <= 10
