"""What an API request reads of keys, models and competition prompts is kept by each process
(arena.api.lookups) while a shared version says nothing changed: every change is seen, by this
process at once and by the others within a second, and with Redis away nothing is kept.

"Another process" here is a write that leaves this process's copies alone and bumps only the
shared version, as a change made in another web process does."""

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from arena import cache as arena_cache
from arena.api import lookups
from arena.api.models import ApiKey, ImageJob
from arena.api.services import api_keys_revoke
from arena.catalog.importing import PromptRow
from arena.catalog.models import AIModel, Arena, Prompt, ProviderCall
from arena.catalog.services import prompt_set_active, prompts_import
from tests.arena.helpers import DEAD_REDIS

pytestmark = pytest.mark.django_db

GENERATIONS = "/openai/v1/images/generations"
BODY = {"model": "blockworld", "prompt": "a cat", "size": "64x64", "response_format": "b64_json"}


def generate(key, body=BODY):
    return Client().post(
        GENERATIONS,
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def changed_elsewhere():
    """What another process's change leaves here: the shared version bumped, nothing else."""
    cache.set(lookups.VERSION_KEY, "changed elsewhere", timeout=None)


@pytest.fixture
def version_read_each_time(monkeypatch):
    """The second after which this process reads the shared version again, passed at once."""
    monkeypatch.setattr(lookups, "VERSION_SECONDS", 0.0)


@pytest.mark.django_db(transaction=True)  # real commits: what is kept is kept once committed
def test_a_request_once_its_rows_are_kept_writes_the_job_and_its_calls_in_one_transaction(key):
    assert generate(key).status_code == 200  # the first reads the key, model and prompts

    with CaptureQueriesContext(connection) as queries:
        response = generate(key)

    assert response.status_code == 200
    statements = [query["sql"].split()[0] for query in queries.captured_queries]
    assert statements == ["BEGIN", "INSERT", "INSERT", "COMMIT"], statements
    job = ImageJob.objects.latest("created_at")
    assert job.status == ImageJob.Status.READY
    assert job.runs == 1
    assert job.created_at <= job.started_at <= job.finished_at  # stored once finished
    assert ProviderCall.objects.filter(source=ImageJob.Source.API).count() == 2


def test_a_key_revoked_here_is_refused_at_once(key):
    assert generate(key).status_code == 200

    api_keys_revoke(key_ids=ApiKey.objects.values_list("pk", flat=True))

    assert generate(key).status_code == 401


def test_a_key_revoked_by_another_process_is_refused_once_the_version_is_read_again(
    key, monkeypatch
):
    assert generate(key).status_code == 200
    ApiKey.objects.update(active=False)  # the other process's write...
    changed_elsewhere()  # ...and its bump

    kept = generate(key)  # this process read the version less than a second ago
    monkeypatch.setattr(lookups, "VERSION_SECONDS", 0.0)  # a second later
    refused = generate(key)

    assert kept.status_code == 200
    assert refused.status_code == 401


def test_a_model_removed_by_another_process_is_not_found(key, version_read_each_time):
    assert generate(key).status_code == 200
    AIModel.objects.filter(slug="blockworld").update(slug="blockworld-retired")
    changed_elsewhere()

    response = generate(key)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"


def test_prompts_imported_into_the_competition_are_refused_at_once(key):
    assert generate(key).status_code == 200

    prompts_import(arena=Arena.T2I, rows=[PromptRow(line=1, text="A cat.")])
    refused = generate(key)
    prompt_set_active(prompt_ids=Prompt.objects.values_list("pk", flat=True), active=False)
    retired = generate(key)

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "competition_prompt"
    assert retired.status_code == 200


def test_a_prompt_saved_by_another_process_is_refused_once_the_version_is_read_again(
    key, version_read_each_time
):
    assert generate(key).status_code == 200
    Prompt.objects.bulk_create([Prompt(arena=Arena.T2I, text="a cat", fingerprint=fingerprint())])
    changed_elsewhere()

    assert generate(key).status_code == 400


def fingerprint():
    return Prompt.fingerprint_for(Arena.T2I, "a cat")


def test_with_redis_away_nothing_is_kept_and_a_revoked_key_is_refused_at_once(
    key, settings, monkeypatch
):
    settings.CACHES = {"default": {"BACKEND": "arena.cache.RedisCache", "LOCATION": DEAD_REDIS}}
    monkeypatch.setattr(arena_cache, "OUTAGE_SECONDS", 0.0)
    assert generate(key).status_code == 200

    ApiKey.objects.update(active=False)  # no bump can reach anyone

    assert generate(key).status_code == 401
    assert not lookups._keys
    assert not lookups._models
    assert not lookups._prompts
