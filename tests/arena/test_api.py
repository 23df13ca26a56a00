"""The OpenAI-compatible images API: keys, generations, edits, errors in OpenAI's shape."""

import base64
import io
import json
import os
import re
import time
from datetime import timedelta

import openai
import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

import gateway
from arena.api import services
from arena.api.models import ApiKey, ImageJob
from arena.api.services import (
    JOB_INPUTS,
    api_images_prune,
    api_key_create,
    api_keys_revoke,
    image_job_create,
    image_job_execute,
    image_jobs_requeue_stale,
    images_save,
)
from arena.api.tasks import api_images_prune_run
from arena.catalog.models import AIModel, ProviderCall
from arena.catalog.services import catalog_sync, edit_prompt_create
from arena.celery import app
from tests.arena.helpers import use_local_gateway
from tests.factories import PromptFactory, png_bytes

# Committed for real: a request's job reaches the (eager) queue on commit.
pytestmark = pytest.mark.django_db

GENERATIONS = "/openai/v1/images/generations"
EDITS = "/openai/v1/images/edits"


def post_json(key, body, path=GENERATIONS):
    return Client().post(
        path,
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def post_edit(key, fields, files):
    return Client().post(EDITS, {**fields, **files}, headers={"Authorization": f"Bearer {key}"})


def upload(data, name="source.png"):
    file = io.BytesIO(data)
    file.name = name
    return file


def shapes() -> bytes:
    image = Image.new("RGB", (128, 128), (20, 20, 40))
    ImageDraw.Draw(image).polygon([(0, 128), (64, 10), (128, 128)], fill=(240, 240, 250))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def stored_nothing():
    return not ProviderCall.objects.exists() and not default_storage.exists("api")


def test_models_lists_every_catalog_model_with_what_it_can_do(key):
    response = Client().get("/openai/v1/models", headers={"Authorization": f"Bearer {key}"})

    models = {row["id"]: row for row in response.json()["data"]}
    assert response.json()["object"] == "list"
    assert models["lumen-xl"]["capabilities"] == ["generate", "edit"]
    assert models["blockworld"]["capabilities"] == ["generate"]
    assert models["retouch"]["capabilities"] == ["edit"]
    assert models["lumen-xl"]["object"] == "model"
    assert "flux-1.1-pro" not in models  # no provider key here: it can't be called


def test_generation_returns_n_images_of_the_size_asked_and_records_every_call(key):
    body = {"model": "lumen-xl", "prompt": "A red ball", "n": 2, "size": "512x384"}
    response = post_json(key, {**body, "response_format": "b64_json"})

    assert response.status_code == 200, response.content
    images = [
        Image.open(io.BytesIO(base64.b64decode(row["b64_json"])))
        for row in response.json()["data"]
    ]
    assert [image.size for image in images] == [(512, 384), (512, 384)]
    assert response["X-Arena-Provider"] == "local"
    calls = ProviderCall.objects.filter(source="api", model__slug="lumen-xl", ok=True)
    assert sum(call.images for call in calls) == 2
    assert response["X-Arena-Cost-USD"] == f"{sum(call.cost for call in calls):.4f}"
    assert float(response["X-Arena-Cost-USD"]) > 0


def test_generation_by_url_stores_the_image_under_a_random_name(key):
    response = post_json(key, {"model": "prism-2", "prompt": "Three yellow apples"})

    assert response.status_code == 200, response.content
    (row,) = response.json()["data"]
    assert row["url"].startswith("http://testserver/openai/v1/files/images/")
    assert "prism" not in row["url"]
    fetched = Client().get(row["url"])
    assert fetched.status_code == 200
    assert Image.open(io.BytesIO(b"".join(fetched.streaming_content))).size == (1024, 1024)


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"model": "lumen-xl"}, 400, "prompt", None),
        ({"model": "lumen-xl", "prompt": "  "}, 400, "prompt", None),
        ({"model": "lumen-xl", "prompt": "x" * 4001}, 400, "prompt", None),
        ({"prompt": "a cat"}, 400, "model", None),
        ({"model": "nope", "prompt": "a cat"}, 404, "model", "model_not_found"),
        ({"model": "retouch", "prompt": "a cat"}, 400, "model", None),  # only edits
        ({"model": "lumen-xl", "prompt": "a cat", "size": "big"}, 400, "size", None),
        ({"model": "lumen-xl", "prompt": "a cat", "size": "10x10"}, 400, "size", None),
        ({"model": "lumen-xl", "prompt": "a cat", "size": "9000x1024"}, 400, "size", None),
        ({"model": "lumen-xl", "prompt": "a cat", "n": 0}, 400, "n", None),
        ({"model": "lumen-xl", "prompt": "a cat", "n": 11}, 400, "n", None),
        ({"model": "lumen-xl", "prompt": "a cat", "n": "two"}, 400, "n", None),
        ({"model": "lumen-xl", "prompt": "a cat", "n": True}, 400, "n", None),
        (
            {"model": "lumen-xl", "prompt": "a cat", "response_format": "gif"},
            400,
            "response_format",
            None,
        ),
        ({"model": "lumen-xl", "prompt": "a cat", "quality": 3}, 400, "quality", None),
        ({"model": "lumen-xl", "prompt": "a cat", "seed": -1}, 400, "seed", None),
        ({"model": "lumen-xl", "prompt": "a cat", "seed": 2**63}, 400, "seed", None),
        ({"model": "lumen-xl", "prompt": "a cat", "seed": 1.5}, 400, "seed", None),
        ({"model": "lumen-xl", "prompt": "a cat", "seed": True}, 400, "seed", None),
        ({"model": "lumen-xl", "prompt": "a cat", "seed": "lucky"}, 400, "seed", None),
        ({"model": "lumen-xl", "prompt": "a cat", "seed": "9" * 5000}, 400, "seed", None),
        ({"model": "lumen-xl", "prompt": "a c\u0000at"}, 400, "prompt", None),
        ({"model": "lumen-xl", "prompt": "a c\ud800at"}, 400, "prompt", None),
        ({"model": "lumen-xl", "prompt": "a cat", "style": "vivid\u0000"}, 400, "style", None),
        ({"model": "lumen-xl", "prompt": "a cat", "opt": {"k": ["\u0000"]}}, 400, "opt", None),
        ({"model": "lumen-xl", "prompt": "a cat", "o\u0000pt": 1}, 400, None, None),
        ('{"model": "lumen-xl", "prompt": "a cat", "opt": NaN}', 400, "opt", None),
        ('{"model": "lumen-xl", "prompt": "a cat", "opt": [-Infinity]}', 400, "opt", None),
        ('{"model": "lumen-xl", "prompt": ', 400, None, None),
        ("[1, 2]", 400, None, None),
        ("", 400, None, None),
    ],
)
def test_bad_requests_get_openais_error_shape_and_store_nothing(key, body, status, param, code):
    response = post_json(key, body)

    assert response.status_code == status
    error = response.json()["error"]
    assert error["param"] == param
    assert error["code"] == code
    assert error["type"] == "invalid_request_error"
    assert len(error["message"]) > 10
    assert stored_nothing()


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "lumen-xl", "size": "3000x3000"}, "size"),  # its sides go up to 2048
        ({"model": "gemini-3.1-flash-lite-image", "size": "2048x2048"}, "size"),  # to 1536
        ({"model": "gemini-3.1-flash-lite-image", "n": 5}, "n"),  # 4 images a request
    ],
)
def test_what_the_model_itself_cannot_take_is_refused_before_any_job(key, body, param):
    response = post_json(key, {"prompt": "a cat", **body})

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert not ImageJob.objects.exists()
    assert stored_nothing()


def test_more_sources_than_the_model_takes_are_refused_naming_the_image(key):
    image = png_bytes(size=(100, 100))
    files = {"image[]": [upload(image), upload(image, "other.png")]}

    response = post_edit(key, {"model": "lumen-xl", "prompt": "Make it red"}, files)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "image"
    assert "at most 1 source image" in response.json()["error"]["message"]
    assert not ImageJob.objects.exists()


def test_competition_prompts_are_refused_while_they_are_in_battles(key):
    prompt = PromptFactory(text="A red ball on the left and a blue cube on the right")
    source = png_bytes(size=(128, 128))
    edit, _ = edit_prompt_create(instruction="Make the ball green", source=source)
    body = {"model": "lumen-xl", "prompt": "a RED ball on the left   and a blue cube on the right"}

    refused = post_json(key, body)
    refused_edit = post_edit(
        key, {"model": "lumen-xl", "prompt": "Make the ball green"}, {"image": upload(source)}
    )
    with edit.source_image.open("rb") as served:  # what a battle page serves as the source
        refused_served = post_edit(
            key,
            {"model": "lumen-xl", "prompt": "make the ball  green"},
            {"image": upload(served.read())},
        )
    other_source = post_edit(
        key,
        {"model": "lumen-xl", "prompt": "Make the ball green"},
        {"image": upload(shapes())},  # a flat colour would look like any other to a phash
    )
    prompt.active = edit.active = False
    prompt.save()
    edit.save()
    retired = post_json(key, body)

    assert refused.status_code == refused_edit.status_code == 400
    assert refused.json()["error"]["code"] == "competition_prompt"
    assert refused_edit.json()["error"]["code"] == "competition_prompt"
    assert refused_served.json()["error"]["code"] == "competition_prompt"
    assert other_source.status_code == 200  # the same words on another image are fine
    assert retired.status_code == 200


def test_keys_are_required_checked_and_revocable(key):
    body = {"model": "lumen-xl", "prompt": "a cat"}
    missing = Client().post(GENERATIONS, body, content_type="application/json")
    wrong = post_json(key[:-3] + "abc", body)
    api_keys_revoke(key_ids=ApiKey.objects.values_list("pk", flat=True))
    revoked = post_json(key, body)

    assert missing.status_code == 401
    assert "didn't provide an API key" in missing.json()["error"]["message"]
    assert wrong.status_code == revoked.status_code == 401
    assert wrong.json()["error"]["code"] == revoked.json()["error"]["code"] == "invalid_api_key"
    assert stored_nothing()
    assert key not in str(list(ApiKey.objects.values()))  # only a hash is kept


def test_one_model_is_retrieved_by_its_id_dots_and_all(key):
    headers = {"Authorization": f"Bearer {key}"}
    listed = Client().get("/openai/v1/models", headers=headers).json()["data"]

    for model in listed:
        response = Client().get(f"/openai/v1/models/{model['id']}", headers=headers)
        assert response.status_code == 200
        assert response.json() == model


def test_a_catalog_model_without_a_provider_key_is_not_found_and_says_why(key):
    response = Client().get(
        "/openai/v1/models/gpt-image-1", headers={"Authorization": f"Bearer {key}"}
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    assert "no provider key" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/openai/v1/models/no-such-model",
        "/openai/v1/nothing",
        "/openai/",
        "/openai/v1/models/../x",
    ],
)
def test_every_unknown_address_under_openai_answers_json(key, path):
    response = Client().get(path, headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["message"]


def test_wrong_method_is_refused_as_json(key):
    response = Client().get(GENERATIONS, headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 405
    assert "POST" in response.json()["error"]["message"]


def test_each_key_has_a_rate_limit(key, settings):
    settings.ARENA_API_REQUESTS_PER_MINUTE = 2
    other = api_key_create(name="other")[1]
    body = {"model": "blockworld", "prompt": "a cat", "size": "64x64"}

    statuses = [post_json(key, body).status_code for _ in range(3)]
    limited = post_json(key, body)

    assert statuses == [200, 200, 429]
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(limited["Retry-After"]) <= 120
    assert post_json(other, body).status_code == 200


def test_every_answer_to_a_key_carries_openais_request_limit_headers(key, settings):
    settings.ARENA_API_REQUESTS_PER_MINUTE = 3
    headers = {"Authorization": f"Bearer {key}"}

    first = Client().get("/openai/v1/models", headers=headers)
    refused = Client().post(GENERATIONS, "{", content_type="application/json", headers=headers)

    assert first["x-ratelimit-limit-requests"] == "3"
    assert first["x-ratelimit-remaining-requests"] == "2"
    assert re.fullmatch(r"(1m)?\d+s", first["x-ratelimit-reset-requests"])
    assert refused.status_code == 400  # a refused request counts too, and says so
    assert refused["x-ratelimit-remaining-requests"] == "1"


def test_edit_applies_the_instruction_to_the_uploaded_image(key):
    response = post_edit(
        key,
        {"model": "lumen-xl", "prompt": "Make it black and white", "response_format": "b64_json"},
        {"image": upload(png_bytes((200, 30, 30), (300, 200)))},
    )

    assert response.status_code == 200, response.content
    image = Image.open(io.BytesIO(base64.b64decode(response.json()["data"][0]["b64_json"])))
    red, green, blue = image.convert("RGB").getpixel((150, 100))
    assert max(red, green, blue) - min(red, green, blue) < 10  # red before, grey now
    assert ProviderCall.objects.filter(source="api", ok=True).count() == 1


@pytest.mark.parametrize(
    ("fields", "files", "param", "message"),
    [
        ({"model": "lumen-xl", "prompt": "x"}, {}, "image", "image is required"),
        (
            {"model": "lumen-xl", "prompt": "x"},
            {"image": upload(b"hello", "a.png")},
            "image",
            "not a PNG",
        ),
        (
            {"model": "blockworld", "prompt": "x"},
            {"image": upload(png_bytes(size=(100, 100)))},
            "model",
            "cannot edit",
        ),
        (
            {"model": "lumen-xl", "prompt": "x"},
            {"image": upload(png_bytes(size=(100, 100)), "a.jpg")},
            "image",
            "really a PNG",
        ),
        (
            {"model": "lumen-xl", "prompt": "x"},
            {"image": upload(png_bytes(size=(20, 20)))},
            "image",
            "64+ pixels",
        ),
    ],
)
def test_bad_edits_are_refused_and_store_nothing(key, fields, files, param, message):
    response = post_edit(key, fields, files)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert message in response.json()["error"]["message"]
    assert stored_nothing()


def test_a_broken_multipart_body_is_a_json_400(key):
    response = Client().post(
        EDITS,
        b"--xyz\r\nContent-Disposition: form-data; name=prompt\r\n\r\nhi\r\n--xy",
        content_type="multipart/form-data; boundary=",
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 400
    assert "multipart" in response.json()["error"]["message"]
    assert stored_nothing()


def test_a_failing_provider_is_a_502_and_its_attempts_are_kept(key):
    use_local_gateway(fail_rates={"lumen-xl": 1.0})

    response = post_json(key, {"model": "lumen-xl", "prompt": "a cat"})

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"
    assert response.json()["error"]["type"] == "server_error"
    assert ProviderCall.objects.filter(source="api", ok=False).exists()
    assert not default_storage.exists("api")


def test_a_model_without_configured_providers_is_a_503(key):
    response = post_json(key, {"model": "flux-1.1-pro", "prompt": "a cat"})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_not_available"


def test_staff_create_a_key_in_the_admin_and_see_it_once(db):
    catalog_sync()
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("s", "s@x.org", "pw"))

    page = staff.post("/admin/api/apikey/add/", {"name": "Acme bot", "active": "on"}, follow=True)

    text = page.content.decode()
    shown = re.search(r"\bia-[0-9a-f]{8}-[A-Za-z0-9_-]{43}\b", text)[0]
    assert "copy it now" in text
    assert post_json(shown, {"model": "blockworld", "prompt": "a cat"}).status_code == 200
    assert staff.get("/admin/api/apikey/").content.decode().count(shown) == 0


def test_the_official_openai_client_works_against_it(live_server):
    catalog_sync()
    client = openai.OpenAI(
        base_url=f"{live_server.url}/openai/v1", api_key=api_key_create(name="sdk")[1]
    )

    listed = {model.id for model in client.models.list()}
    made = client.images.generate(
        model="prism-2", prompt="A blue cube", size="256x256", response_format="b64_json"
    )
    edited = client.images.edit(
        model="lumen-xl", image=("cube.png", png_bytes(size=(128, 128))), prompt="Make it sepia"
    )
    with pytest.raises(openai.NotFoundError) as missing:
        client.images.generate(model="nope", prompt="A blue cube")
    retrieved = client.models.retrieve("flux-1.1-pro" if "flux-1.1-pro" in listed else "prism-2")
    with pytest.raises(openai.NotFoundError) as unknown:
        client.models.retrieve("no-such-model")

    assert retrieved.id in listed
    assert retrieved.owned_by
    assert unknown.value.body["code"] == "model_not_found"
    assert {"prism-2", "lumen-xl"} <= listed
    assert Image.open(io.BytesIO(base64.b64decode(made.data[0].b64_json))).size == (256, 256)
    assert edited.data[0].url.startswith(f"{live_server.url}/openai/v1/files/images/")
    assert missing.value.body["code"] == "model_not_found"


def test_api_and_playground_images_are_pruned_after_a_while(settings):
    old = images_save(images=[png_bytes()], folder="api") + images_save(
        images=[png_bytes()], folder="playground"
    )
    old += images_save(images=[png_bytes()], folder=JOB_INPUTS)  # of a job that never ran
    fresh = images_save(images=[png_bytes()], folder="api")
    for name in old:
        stamp = time.time() - 3 * 3600
        os.utime(default_storage.path(name), (stamp, stamp))
    kept = images_save(images=[png_bytes()], folder="generations")  # arena images stay

    settings.ARENA_API_URL_MINUTES = 120
    api_images_prune_run()

    assert [default_storage.exists(name) for name in old] == [False, False, False]
    assert default_storage.exists(fresh[0])
    assert default_storage.exists(kept[0])
    assert api_images_prune(older_than=timedelta(hours=2)) == 0


def test_parameters_a_provider_cannot_take_are_reported_not_fatal(key):
    body = {"model": "blockworld", "prompt": "a cat", "size": "64x64", "quality": "hd"}

    response = post_json(key, body)

    assert response.status_code == 200
    assert "does not support quality" in response["X-Arena-Warnings"]


@pytest.fixture
def requests_seen(monkeypatch):
    """The requests the gateway was sent."""
    seen = []
    for name in ("generate", "edit"):
        real = getattr(gateway, name)
        monkeypatch.setattr(
            gateway,
            name,
            lambda request, real=real, **options: seen.append(request) or real(request, **options),
        )
    return seen


def test_a_callers_seed_reaches_the_provider(key, requests_seen):
    post_json(key, {"model": "blockworld", "prompt": "a cat", "size": "64x64", "seed": 7})
    post_json(key, {"model": "blockworld", "prompt": "a cat", "size": "64x64", "seed": 2**63 - 1})
    post_edit(
        key,
        {"model": "lumen-xl", "prompt": "Make it sepia", "seed": "0"},
        {"image": upload(png_bytes(size=(100, 100)))},
    )

    assert [request.seed for request in requests_seen] == [7, 2**63 - 1, 0]
    assert all(request.extra == {} for request in requests_seen)  # not passed on as an option


def test_every_request_without_a_seed_gets_a_fresh_secret_one(key, requests_seen):
    body = {"model": "blockworld", "prompt": "a cat", "size": "64x64"}

    responses = [post_json(key, body) for _ in range(3)]

    seeds = [request.seed for request in requests_seen]
    assert len(set(seeds)) == 3
    assert all(0 <= seed < 2**63 for seed in seeds)
    for response, seed in zip(responses, seeds, strict=True):
        assert str(seed) not in response.content.decode()
        assert str(seed) not in str(response.headers)


def test_a_request_is_a_job_that_records_who_asked_and_what_came_of_it(key):
    response = post_json(key, {"model": "prism-2", "prompt": "Three yellow apples", "n": 2})

    job = ImageJob.objects.get()
    assert (job.status, job.source, job.operation, job.api_key.name) == (
        "ready", "api", "generate", "tests"
    )  # fmt: skip
    assert (job.model.slug, job.prompt, job.n, job.provider) == (
        "prism-2", "Three yellow apples", 2, "local"
    )  # fmt: skip
    names = [row["url"].split("?")[0].rpartition("/")[2] for row in response.json()["data"]]
    assert [f"api/{name}" for name in names] == job.images
    assert response["X-Arena-Cost-USD"] == f"{job.cost:.4f}"
    assert job.runs == job.attempts == 1
    assert job.started_at <= job.finished_at


def test_an_edits_source_and_mask_are_removed_once_its_job_is_done(key):
    mask = io.BytesIO()
    Image.new("RGBA", (100, 100), (0, 0, 0, 0)).save(mask, format="PNG")  # edit it all
    response = post_edit(
        key,
        {"model": "lumen-xl", "prompt": "Make it sepia"},
        {"image": upload(png_bytes(size=(100, 100))), "mask": upload(mask.getvalue())},
    )

    assert response.status_code == 200, response.content
    job = ImageJob.objects.get()
    assert (job.operation, job.sources, job.mask) == ("edit", [], "")
    assert default_storage.listdir(JOB_INPUTS)[1] == []


@pytest.fixture
def sent(monkeypatch):
    """The jobs sent to the queue, which nobody reads."""
    ids = []
    monkeypatch.setattr(services, "_enqueue", ids.append)
    return ids


def blockworld() -> AIModel:
    return AIModel.objects.get(slug="blockworld")


def test_a_job_runs_once_though_its_task_arrives_twice(
    key, sent, django_capture_on_commit_callbacks
):
    request = gateway.ImageRequest(model="blockworld", prompt="a cat", size="64x64", seed=1)
    with django_capture_on_commit_callbacks(execute=True):
        job = image_job_create(
            request=request, model=blockworld(), edit=False, source=ImageJob.Source.API
        )

    first = image_job_execute(job_id=job.pk)
    again = image_job_execute(job_id=job.pk)

    assert sent == [job.pk]
    assert first.status == "ready"
    assert again is None
    assert ImageJob.objects.get().runs == 1
    assert ProviderCall.objects.count() == 1


def test_a_job_whose_worker_died_is_claimable_again_after_its_lease(key, settings, sent):
    request = gateway.ImageRequest(model="blockworld", prompt="a cat", size="64x64", seed=1)
    job = image_job_create(
        request=request, model=blockworld(), edit=False, source=ImageJob.Source.API
    )
    running = ImageJob.objects.filter(pk=job.pk)
    running.update(status="running", started_at=job.created_at)

    running.update(leased_until=timezone.now() + timedelta(seconds=30))
    within_lease = image_job_execute(job_id=job.pk)
    running.update(leased_until=timezone.now() - timedelta(seconds=1))
    after_lease = image_job_execute(job_id=job.pk)

    assert within_lease is None
    assert after_lease.status == "ready"


def test_the_requeue_pass_sends_a_dead_workers_job_again_and_leaves_live_ones_alone(
    key, sent, django_capture_on_commit_callbacks
):
    request = gateway.ImageRequest(model="blockworld", prompt="a cat", size="64x64", seed=1)
    dead, live, waiting = (
        image_job_create(
            request=request, model=blockworld(), edit=False, source=ImageJob.Source.API
        )
        for _ in "123"
    )
    now = timezone.now()
    running = {"status": "running", "started_at": now, "runs": 1}
    ImageJob.objects.filter(pk=dead.pk).update(leased_until=now - timedelta(seconds=1), **running)
    ImageJob.objects.filter(pk=live.pk).update(leased_until=now + timedelta(seconds=30), **running)

    with django_capture_on_commit_callbacks(execute=True):
        requeued = image_jobs_requeue_stale()
    rerun = image_job_execute(job_id=dead.pk)

    assert (requeued, sent) == (1, [dead.pk])
    assert (rerun.status, rerun.runs) == ("ready", 2)
    assert ImageJob.objects.get(pk=live.pk).status == "running"
    assert ImageJob.objects.get(pk=waiting.pk).status == "queued"  # its task is on its way


def test_when_no_worker_picks_the_job_up_the_caller_gets_a_504(
    key, local_gateway, monkeypatch, sent
):
    monkeypatch.setitem(app.conf, "task_always_eager", False)  # a worker should take the job
    local_gateway.timeout = 0
    monkeypatch.setattr(services, "WAIT_MARGIN_SECONDS", 0.3)

    response = post_json(key, {"model": "blockworld", "prompt": "a cat", "size": "64x64"})

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"
    assert response.json()["error"]["type"] == "server_error"
    assert ImageJob.objects.get().status == "queued"


def test_a_fault_of_ours_in_a_job_is_a_500_at_once(key, monkeypatch, caplog):
    def broken(request, **options):
        raise RuntimeError("a bug")

    monkeypatch.setattr(gateway, "generate", broken)

    response = post_json(key, {"model": "blockworld", "prompt": "a cat", "size": "64x64"})

    assert response.status_code == 500
    assert response.json()["error"]["type"] == "server_error"
    assert "a bug" not in response.content.decode()
    assert ImageJob.objects.get().error_kind == "internal"
    assert "a bug" in caplog.text


def test_staff_see_jobs_in_the_admin_but_never_their_seeds(key):
    post_json(key, {"model": "blockworld", "prompt": "a cat", "size": "64x64"})
    job = ImageJob.objects.get()
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("s", "s@x.org", "pw"))

    listing = staff.get("/admin/api/imagejob/")
    detail = staff.get(f"/admin/api/imagejob/{job.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert job.model.name in listing.content.decode()
    assert "a cat" in detail.content.decode()
    assert str(job.seed) not in listing.content.decode() + detail.content.decode()
    assert staff.get("/admin/api/imagejob/add/").status_code == 403


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    # The key and the settings serve every example alike.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    prompt=st.text(min_size=1, max_size=30),
    seed=JSON,
    extra=st.dictionaries(st.text(max_size=8), JSON, max_size=2),
)
def test_arbitrary_seeds_and_options_are_never_a_server_error(key, settings, prompt, seed, extra):
    settings.ARENA_API_REQUESTS_PER_MINUTE = 0
    body = {**extra, "model": "blockworld", "prompt": prompt, "size": "64x64", "seed": seed}

    response = post_json(key, json.dumps(body))

    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["error"]["param"] in (None, "prompt", "seed", *extra)


def test_staff_revoke_keys_in_the_admin_and_they_are_refused(key):
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("r", "r@x.org", "pw"))
    kept = api_key_create(name="kept")[1]
    revoked = ApiKey.objects.get(prefix=key.split("-")[1])

    page = staff.post(
        "/admin/api/apikey/",
        {"action": "revoke", "_selected_action": [str(revoked.pk)]},
        follow=True,
    )

    assert "Revoked 1 keys" in page.content.decode()
    assert post_json(key, {"model": "blockworld", "prompt": "a cat"}).status_code == 401
    assert post_json(kept, {"model": "blockworld", "prompt": "a cat"}).status_code == 200
