"""Error pages in the site's style, and the health checks a load balancer asks."""

import time

import pytest
from django.core.cache import cache
from django.test import Client

from arena import health

pytestmark = pytest.mark.django_db


def test_an_unknown_address_is_a_404_page_in_the_sites_style():
    response = Client().get("/no/such/page/")
    page = response.content.decode()

    assert response.status_code == 404
    assert "There is nothing at this address" in page
    assert 'class="site-header"' in page
    assert 'href="/models/"' in page


def test_a_server_error_is_a_500_page_in_the_sites_style(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setattr("arena.pages.views.render", lambda *a, **k: 1 / 0)
    client = Client(raise_request_exception=False)

    response = client.get("/")

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert "ZeroDivisionError" not in response.content.decode()


def test_liveness_answers_without_touching_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


def test_readiness_checks_the_database_and_the_cache():
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "database": {"ok": True},
        "cache": {"ok": True},
        "workers": {"ok": True, "eager": True},
    }


def test_readiness_fails_while_the_cache_is_away(settings):
    settings.CACHES = {
        "default": {"BACKEND": "arena.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["cache"]["ok"] is False
    assert response.json()["database"] == {"ok": True}


def test_readiness_waits_for_a_heartbeat_from_every_queue(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.set(health.HEARTBEAT_KEY.format(queue="generation"), time.time())
    cache.set(health.HEARTBEAT_KEY.format(queue="cpu"), time.time() - 600)  # long silent

    response = Client().get("/readyz")
    silent = response.json()["workers"]["seconds_since_heartbeat"]

    assert response.status_code == 503
    assert silent["generation"] < 5
    assert silent["cpu"] > 500
    assert silent["celery"] is None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_running_worker_beats_for_the_queues_it_consumes(worker):
    deadline = time.monotonic() + 10
    while (
        time.monotonic() < deadline
        and cache.get(health.HEARTBEAT_KEY.format(queue="generation")) is None
    ):
        time.sleep(0.05)

    beats = cache.get_many([health.HEARTBEAT_KEY.format(queue=q) for q in health.QUEUES])

    assert set(beats) == {
        health.HEARTBEAT_KEY.format(queue="generation"),
        health.HEARTBEAT_KEY.format(queue="celery"),
    }  # its two queues; no worker here consumes "cpu"
