"""A key owner's pages: signing in, their own keys (made, shown once, revoked) and their usage
per key and per day, on the page and as CSV."""

import csv
import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from arena.api.models import ApiKey, ImageJob
from arena.api.services import api_key_create
from arena.catalog.models import AIModel
from arena.catalog.services import catalog_sync

pytestmark = pytest.mark.django_db

KEYS, USAGE, CSV = "/account/keys/", "/account/usage/", "/account/usage.csv"
MODELS = "/openai/v1/models"


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("ada", password="correct horse battery")


@pytest.fixture
def signed_in(owner):
    client = Client()
    client.force_login(owner)
    return client


def job(key, *, day, status=ImageJob.Status.READY, images=1, cost="0.0400"):
    """A finished job of that key, made at noon on that day."""
    made = ImageJob.objects.create(
        source=ImageJob.Source.API,
        api_key=key,
        operation="generate",
        model=AIModel.objects.get(slug="prism-2"),
        prompt="A cube",
        seed=1,
        status=status,
        images=[f"api/{n}.png" for n in range(images)],
        cost=Decimal(cost),
    )
    noon = timezone.make_aware(datetime.combine(day, datetime.min.time()) + timedelta(hours=12))
    ImageJob.objects.filter(pk=made.pk).update(created_at=noon)
    return made


def models_status(text):
    return Client().get(MODELS, headers={"Authorization": f"Bearer {text}"}).status_code


def test_the_account_pages_ask_to_sign_in_first():
    client = Client()
    for path in (KEYS, USAGE, CSV, "/account/keys/1/revoke/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/account/login/?next={path}"


def test_signing_in_through_the_form_leads_to_the_keys(owner):
    client = Client()
    page = client.get("/account/login/").content.decode()
    assert "no public sign-up" in page

    wrong = client.post("/account/login/", {"username": "ada", "password": "nope"})
    right = client.post(
        "/account/login/", {"username": "ada", "password": "correct horse battery"}
    )

    assert wrong.status_code == 200
    assert "correct username and password" in wrong.content.decode()
    assert right.status_code == 302
    assert right["Location"] == KEYS
    assert client.get(KEYS).status_code == 200


def test_signing_in_is_capped_per_address(owner, settings):
    settings.ARENA_SIGNINS_PER_HOUR = 2
    client = Client()
    for _ in range(2):
        client.post("/account/login/", {"username": "ada", "password": "guess"})

    refused = client.post(
        "/account/login/", {"username": "ada", "password": "correct horse battery"}
    )

    assert refused.status_code == 429
    assert "Too many sign-in attempts" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_the_header_says_sign_in_or_account(signed_in):
    assert 'href="/account/login/"' in Client().get("/").content.decode()
    assert (
        'href="/account/keys/" aria-current="page">Account' in signed_in.get(KEYS).content.decode()
    )


def test_signing_out_takes_a_post(signed_in):
    assert signed_in.get("/account/logout/").status_code == 405
    assert signed_in.post("/account/logout/").status_code == 302
    assert signed_in.get(KEYS).status_code == 302


def test_the_keys_page_lists_only_the_users_own_keys(signed_in, owner, django_user_model):
    other = django_user_model.objects.create_user("bob")
    mine, _ = api_key_create(name="my render farm", user_id=owner.pk)
    theirs, _ = api_key_create(name="bobs secret project", user_id=other.pk)
    api_key_create(name="nobodys key")

    page = signed_in.get(KEYS).content.decode()

    assert "my render farm" in page
    assert f"ia-{mine.prefix}-…" in page
    assert "bobs secret project" not in page
    assert theirs.prefix not in page
    assert "nobodys key" not in page


def test_a_new_key_is_shown_once_and_works_against_the_api(signed_in, owner):
    catalog_sync()
    made = signed_in.post(KEYS, {"name": "laptop"})
    page = made.content.decode()
    secret = page.split('<code id="new-key" class="secret">', 1)[1].split("</code>", 1)[0]

    assert made.status_code == 200
    assert "no-store" in made["Cache-Control"]
    assert ApiKey.objects.get().user == owner
    assert models_status(secret) == 200
    assert secret not in signed_in.get(KEYS).content.decode()


def test_a_key_needs_a_name(signed_in):
    response = signed_in.post(KEYS, {"name": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ApiKey.objects.exists()


def test_revoking_asks_first_and_then_the_key_is_refused(signed_in, owner):
    catalog_sync()
    key, text = api_key_create(name="old", user_id=owner.pk)
    path = f"/account/keys/{key.pk}/revoke/"

    confirm = signed_in.get(path)
    assert confirm.status_code == 200
    assert 'method="post"' in confirm.content.decode()
    assert models_status(text) == 200

    revoked = signed_in.post(path, follow=True)

    assert revoked.redirect_chain == [(KEYS, 302)]
    assert "revoked" in revoked.content.decode()
    assert models_status(text) == 401


def test_revoking_needs_the_csrf_token(owner):
    key, _ = api_key_create(name="old", user_id=owner.pk)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    assert client.post(f"/account/keys/{key.pk}/revoke/").status_code == 403
    assert ApiKey.objects.get().active


def test_another_users_key_is_not_found(signed_in, django_user_model):
    other = django_user_model.objects.create_user("bob")
    theirs, _ = api_key_create(name="bobs", user_id=other.pk)
    path = f"/account/keys/{theirs.pk}/revoke/"

    assert signed_in.get(path).status_code == 404
    assert signed_in.post(path).status_code == 404
    assert ApiKey.objects.get().active


def test_usage_adds_up_the_jobs_made_through_the_api(signed_in, owner, django_user_model):
    catalog_sync()
    key, text = api_key_create(name="farm", user_id=owner.pk)
    other, _ = api_key_create(name="bobs", user_id=django_user_model.objects.create_user("b").pk)
    for n in (1, 2):
        made = Client().post(
            "/openai/v1/images/generations",
            json.dumps({"model": "prism-2", "prompt": "A cube", "size": "256x256", "n": n}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {text}"},
        )
        assert made.status_code == 200
    today = timezone.localdate()
    job(key, day=today, status=ImageJob.Status.FAILED, images=0, cost="0.0100")
    job(key, day=today - timedelta(days=3), images=2, cost="0.0800")
    job(other, day=today, images=4)
    expected_today = ImageJob.objects.filter(api_key=key, created_at__date=today)
    cost_today = sum(j.cost for j in expected_today)

    page = signed_in.get(USAGE)
    usage = page.context["usage"]

    assert '<td class="num">4</td><td class="num">5</td>' in page.content.decode()  # the total
    assert [(row["day"], row["api_key"]) for row in usage.rows] == [
        (today, key.pk),
        (today - timedelta(days=3), key.pk),
    ]
    today_row = usage.rows[0]
    assert today_row["requests"] == 3
    assert today_row["images"] == 3
    assert today_row["errors"] == 1
    assert today_row["cost"] == cost_today
    assert (usage.requests, usage.images, usage.errors) == (4, 5, 1)
    assert usage.cost == cost_today + Decimal("0.0800")


def test_usage_shows_the_last_30_days_unless_asked(signed_in, owner):
    catalog_sync()
    key, _ = api_key_create(name="farm", user_id=owner.pk)
    today = timezone.localdate()
    job(key, day=today - timedelta(days=29))
    job(key, day=today - timedelta(days=30))

    default_page = signed_in.get(USAGE)
    default = default_page.context["usage"]
    asked = signed_in.get(USAGE, {"start": today - timedelta(days=30), "end": today}).context[
        "usage"
    ]

    assert default.requests == 1
    assert asked.requests == 2
    start = (today - timedelta(days=29)).isoformat()
    assert f'name="start" value="{start}"' in default_page.content.decode()


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ({"start": "yesterday"}, "Start day: Enter a valid date."),
        ({"end": "2026-13-45"}, "End day: Enter a valid date."),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "must not be after the last day"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "at most 366 days"),
        ({"start": "9999-12-31", "end": "9999-12-31\x00"}, "Enter a valid date."),
    ],
)
def test_a_bad_range_is_a_400_with_a_sentence(signed_in, query, sentence):
    page = signed_in.get(USAGE, query)
    csv_file = signed_in.get(CSV, query)

    assert page.status_code == 400
    assert sentence in page.content.decode()
    assert csv_file.status_code == 400
    assert sentence in csv_file.content.decode()


def test_the_csv_holds_the_pages_figures(signed_in, owner):
    catalog_sync()
    key, _ = api_key_create(name='=HYPERLINK("x"), "quoted"', user_id=owner.pk)
    day = date(2026, 11, 3)
    job(key, day=day, images=2, cost="0.0800")
    job(key, day=day, status=ImageJob.Status.FAILED, images=0, cost="0")
    query = {"start": "2026-11-01", "end": "2026-11-30"}

    page = signed_in.get(USAGE, query)
    response = signed_in.get(CSV, query)
    rows = list(csv.reader(io.StringIO(response.content.decode())))

    assert 'href="/account/usage.csv?start=2026-11-01&amp;end=2026-11-30"' in page.content.decode()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="image-arena-usage-2026-11-01-to-2026-11-30.csv"'
    )
    assert rows == [
        ["day", "key", "key prefix", "requests", "images", "cost (USD)", "errors"],
        ["2026-11-03", '\'=HYPERLINK("x"), "quoted"', f"ia-{key.prefix}", "2", "2", "0.0800", "1"],
        ["total", "", "", "2", "2", "0.0800", "1"],
    ]


def test_usage_takes_the_same_number_of_queries_however_many_keys_and_days(signed_in, owner):
    catalog_sync()

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert signed_in.get(USAGE).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    first, _ = api_key_create(name="one", user_id=owner.pk)
    job(first, day=timezone.localdate())
    few = queries()
    for n in range(4):
        key, _ = api_key_create(name=f"key {n}", user_id=owner.pk)
        for days_ago in range(5):
            job(key, day=timezone.localdate() - timedelta(days=days_ago))
    many = queries()

    assert len(many) == len(few)
    assert sum('"api_imagejob"' in sql for sql in many) == 1


@given(
    query=st.dictionaries(
        st.sampled_from(["start", "end", "other"]), st.text(max_size=30), max_size=3
    )
)
@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_no_range_query_makes_a_server_error(signed_in, query):
    assert signed_in.get(USAGE, query).status_code in (200, 400)
    assert signed_in.get(CSV, query).status_code in (200, 400)
