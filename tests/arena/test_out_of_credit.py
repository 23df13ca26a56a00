"""A provider out of credit: a clear 503 to API callers, and plain to see in the admin, where
an operator marks it topped up."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

import gateway
from arena.api.services import api_key_create
from arena.catalog.models import Provider, ProviderCall
from arena.catalog.services import catalog_sync
from tests.arena.helpers import local_catalog
from tests.gateway.conftest import Scripted, error

pytestmark = pytest.mark.django_db


@pytest.fixture
def broke():
    """A gateway whose only provider answers that its account is out of credit."""
    catalog_sync()
    made = gateway.Gateway(
        catalog=local_catalog(),
        providers={"local": Scripted("local", error(gateway.ErrorKind.QUOTA_EXHAUSTED, 429))},
        router=gateway.Router(gateway.MemoryWindow()),
    )
    gateway.set_default_gateway(made)
    return made


def generate(key):
    return Client().post(
        "/openai/v1/images/generations",
        json.dumps({"model": "blockworld", "prompt": "a cat"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def test_an_api_caller_gets_a_503_that_says_out_of_credit(broke):
    key = api_key_create(name="tests")[1]

    first, again = generate(key), generate(key)

    for response in (first, again):
        assert response.status_code == 503
        body = response.json()["error"]
        assert (body["code"], body["type"]) == ("provider_quota_exhausted", "server_error")
        assert "out of credit" in body["message"]
        assert "scripted" not in body["message"]  # the provider's own words stay inside
    assert int(again["Retry-After"]) > 30 * 60  # resting for long, not a rate limit's 30 s
    assert ProviderCall.objects.get().error_kind == "insufficient_quota"


def test_the_admin_shows_it_and_an_operator_ends_the_rest(broke):
    generate(api_key_create(name="tests")[1])
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("s", "s@x.org", "pw"))

    calls = staff.get("/admin/catalog/providercall/").content.decode()
    providers = staff.get("/admin/catalog/provider/").content.decode()

    assert "<strong>out of credit</strong>" in calls
    assert "<strong>Out of credit</strong>: not called for 60 min more" in providers

    local = Provider.objects.get(slug="local")
    response = staff.post(
        "/admin/catalog/provider/",
        {"action": "topped_up", "_selected_action": [str(local.pk)]},
        follow=True,
    )

    assert "Calling local again." in response.content.decode()
    assert broke.router.provider_rest("local") is None
    assert "Out of credit" not in staff.get("/admin/catalog/provider/").content.decode()
