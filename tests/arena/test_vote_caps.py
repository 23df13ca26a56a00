"""Votes per minute and per day, per visitor and per address, with a friendly refusal."""

import pytest
from django.test import Client, RequestFactory

from arena.battles.models import Vote
from arena.visitors import client_ip
from tests.arena.helpers import open_battle
from tests.factories import AIModelFactory, GenerationFactory, PromptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def prompt():
    prompt = PromptFactory()
    for _ in range(3):
        GenerationFactory(prompt=prompt, model=AIModelFactory())
    return prompt


def vote(client: Client, **headers) -> int:
    battle = open_battle(client)
    return client.post(battle.get_absolute_url(), {"choice": "left"}, headers=headers).status_code


def test_a_visitor_voting_too_fast_is_asked_to_slow_down(settings):
    settings.ARENA_VOTES_PER_MINUTE = 3
    client = Client()

    assert [vote(client) for _ in range(3)] == [302, 302, 302]
    battle = open_battle(client)
    response = client.post(battle.get_absolute_url(), {"choice": "left"})

    assert response.status_code == 429
    assert "Take a breath" in response.content.decode()
    assert Vote.objects.count() == 3
    assert not Vote.objects.filter(battle=battle).exists()
    assert vote(Client(REMOTE_ADDR="10.0.0.9")) == 302  # another visitor is not affected


def test_the_daily_cap_has_its_own_message(settings):
    settings.ARENA_VOTES_PER_DAY = 2
    client = Client()
    vote(client)
    vote(client)

    battle = open_battle(client)
    response = client.post(battle.get_absolute_url(), {"choice": "tie"})

    assert response.status_code == 429
    assert "Come back tomorrow" in response.content.decode()


def test_many_visitors_on_one_address_share_the_address_cap(settings):
    settings.ARENA_IP_VOTES_PER_MINUTE = 4

    statuses = [vote(Client()) for _ in range(5)]

    assert statuses == [302, 302, 302, 302, 429]
    assert Vote.objects.count() == 4


def test_behind_a_proxy_the_forwarded_address_is_capped(settings):
    settings.ARENA_PROXY_COUNT = 1
    settings.ARENA_IP_VOTES_PER_MINUTE = 1

    assert vote(Client(), **{"X-Forwarded-For": "203.0.113.5"}) == 302
    assert vote(Client(), **{"X-Forwarded-For": "203.0.113.6"}) == 302
    assert vote(Client(), **{"X-Forwarded-For": "203.0.113.5"}) == 429


def test_client_ip_ignores_forwarded_addresses_unless_told_to_trust_proxies(settings):
    request = RequestFactory().get("/", headers={"X-Forwarded-For": "1.2.3.4, 5.6.7.8"})

    settings.ARENA_PROXY_COUNT = 0
    assert client_ip(request) == "127.0.0.1"
    settings.ARENA_PROXY_COUNT = 1
    assert client_ip(request) == "5.6.7.8"
    settings.ARENA_PROXY_COUNT = 2
    assert client_ip(request) == "1.2.3.4"


def test_a_refused_htmx_vote_shows_the_message_in_place(settings):
    settings.ARENA_VOTES_PER_MINUTE = 1
    client = Client()
    vote(client)
    battle = open_battle(client)

    response = client.post(
        battle.get_absolute_url(), {"choice": "left"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 429
    assert response["HX-Retarget"] == "#battle-notice"
    assert "Take a breath" in response.content.decode()
