"""Two gunicorn instances behind one nginx upstream (`WEB_INSTANCES=2 make serve`), as two
machines would be: real processes, each request sent to the instance the test chooses (on its
own socket, with the headers nginx sends), so whichever instance a request reaches, a vote cap
holds across both, the gateway's routing window is the same, and a change to the battles seen
by one is seen by the other. Nothing of it is held in only one process's memory."""

from __future__ import annotations

import os
import re
import time
from http.cookies import SimpleCookie

import httpx
import psycopg
import pytest
import redis

import gateway
from gateway.routing import provider_key
from tests.serve_stack import Stack, serve_stack

pytestmark = pytest.mark.serve

PORT = 18853
HOST = f"127.0.0.1:{PORT}"
WINDOW_PREFIX = "test-two-instances:window"
SESSION_VOTES_PER_MINUTE = 3
IP_VOTES_PER_MINUTE = 4
CURATOR = {"username": "curator", "password": "a-long-curator-password"}


@pytest.fixture(scope="module")
def stack():
    environ = {
        "WEB_INSTANCES": "2",
        "GUNICORN_WORKERS": "1",  # one process each: a stale pool would have nowhere to hide
        "GUNICORN_THREADS": "2",
        "ARENA_VOTES_PER_MINUTE": str(SESSION_VOTES_PER_MINUTE),
        "ARENA_IP_VOTES_PER_MINUTE": str(IP_VOTES_PER_MINUTE),
        "ARENA_POOL_SECONDS": "3600",  # only the shared version can make a pool rebuild
        "GATEWAY_WINDOW_PREFIX": WINDOW_PREFIX,
    }
    with serve_stack(port=PORT, database="two_instances", **environ) as running:
        running.manage(
            "createsuperuser",
            "--noinput",
            DJANGO_SUPERUSER_USERNAME=CURATOR["username"],
            DJANGO_SUPERUSER_EMAIL="curator@example.org",
            DJANGO_SUPERUSER_PASSWORD=CURATOR["password"],
        )
        yield running
    window = redis.Redis.from_url(os.environ["REDIS_URL"])
    for key in window.scan_iter(f"{WINDOW_PREFIX}:*"):
        window.delete(key)


class Visitor:
    """One browser: its cookies (Secure ones too: nginx ends TLS, gunicorn sees plain http),
    its address as nginx reports it, and each request sent to the instance asked for."""

    def __init__(self, stack: Stack, ip: str) -> None:
        self.ip = ip
        self.cookies: dict[str, str] = {}
        self.instances = {
            name: httpx.Client(
                transport=httpx.HTTPTransport(uds=str(stack.serve_dir / f"{name}.sock")),
                base_url=f"http://{HOST}",
                timeout=60,
            )
            for name in ("gunicorn", "gunicorn-2")
        }

    def request(self, instance: str, method: str, path: str, **data: object) -> httpx.Response:
        headers = {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.ip,
            "Origin": f"https://{HOST}",
            "Referer": f"https://{HOST}{path}",
            "Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items()),
        }
        form = {**data, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
        response = self.instances[instance].request(
            method, path, headers=headers, data=form if method == "POST" else None
        )
        for line in response.headers.get_list("set-cookie"):
            self.cookies |= {name: morsel.value for name, morsel in SimpleCookie(line).items()}
        return response

    def battle(self, instance: str) -> str:
        """Open a t2i battle on `instance`; its URL."""
        page = self.request(instance, "GET", "/battle/t2i/")
        assert page.status_code == 200
        return re.search(r'<form class="vote" method="post" action="([^"]+)"', page.text)[1]

    def vote(self, instance: str, battle: str) -> int:
        return self.request(instance, "POST", battle, choice="left").status_code

    def sign_in(self, instance: str) -> None:
        self.request(instance, "GET", "/admin/login/")
        signed = self.request(instance, "POST", "/admin/login/?next=/admin/", **CURATOR)
        assert signed.status_code == 302, signed.text[:500]


def test_nginx_sends_to_both_instances_and_each_answers(stack):
    upstream = (stack.serve_dir / "nginx" / "arena.conf").read_text()
    visitor = Visitor(stack, "203.0.113.1")

    assert f"server unix:{stack.serve_dir}/gunicorn.sock;" in upstream
    assert f"server unix:{stack.serve_dir}/gunicorn-2.sock;" in upstream
    assert httpx.get(f"{stack.url}/healthz", verify=False).status_code == 200
    for instance in ("gunicorn", "gunicorn-2"):
        assert visitor.request(instance, "GET", "/healthz").status_code == 200
        assert (stack.serve_dir / f"{instance}.ctl").exists()  # a control socket each


def test_a_visitors_vote_cap_holds_across_both_instances(stack):
    visitor = Visitor(stack, "203.0.113.2")
    accepted = []
    for turn in range(SESSION_VOTES_PER_MINUTE):
        # the battle opened on one instance, the vote cast on the other, by turns
        shown, voted = ("gunicorn", "gunicorn-2")[:: 1 if turn % 2 else -1]
        accepted.append(visitor.vote(voted, visitor.battle(shown)))

    refused = [visitor.vote(instance, visitor.battle(instance)) for instance in visitor.instances]

    assert accepted == [302] * SESSION_VOTES_PER_MINUTE
    assert refused == [429, 429]  # the next vote, whichever instance gets it


def test_an_addresss_vote_cap_holds_across_both_instances(stack):
    on_one, on_other = Visitor(stack, "203.0.113.3"), Visitor(stack, "203.0.113.3")
    codes = []
    for _ in range(IP_VOTES_PER_MINUTE // 2 + 1):
        codes.append(on_one.vote("gunicorn", on_one.battle("gunicorn")))
        codes.append(on_other.vote("gunicorn-2", on_other.battle("gunicorn-2")))

    assert codes == [302] * IP_VOTES_PER_MINUTE + [429, 429]


def test_the_routing_window_is_the_same_on_both_instances(stack):
    curator = Visitor(stack, "203.0.113.4")
    curator.sign_in("gunicorn")
    with psycopg.connect(stack.database_url) as db:
        fal = db.execute("SELECT id FROM catalog_provider WHERE slug = 'fal'").fetchone()[0]

    def out_of_credit(instance: str) -> bool:
        page = curator.request(instance, "GET", "/admin/catalog/provider/")
        assert page.status_code == 200
        return "Out of credit" in page.text

    rested_before = [out_of_credit(name) for name in curator.instances]
    # What a worker's router writes when fal says its account is empty.
    window = gateway.RedisWindow.from_url(os.environ["REDIS_URL"], prefix=WINDOW_PREFIX)
    window.cool_down(provider_key("fal"), time.time() + 3600)
    rested = [out_of_credit(name) for name in curator.instances]
    released = curator.request(
        "gunicorn",
        "POST",
        "/admin/catalog/provider/",
        action="topped_up",
        _selected_action=str(fal),
        index="0",
    )
    rested_after = [out_of_credit(name) for name in curator.instances]

    assert rested_before == [False, False]
    assert rested == [True, True]
    assert released.status_code == 302
    assert rested_after == [False, False]  # released on one, released on both


def test_models_retired_on_one_instance_leave_the_other_ones_battles_at_once(stack):
    visitor, curator = Visitor(stack, "203.0.113.5"), Visitor(stack, "203.0.113.6")
    visitor.battle("gunicorn-2")  # its pool is built, to be kept for ARENA_POOL_SECONDS
    with psycopg.connect(stack.database_url) as db:
        models = [
            row[0]
            for row in db.execute(
                "SELECT DISTINCT g.model_id FROM catalog_generation g "
                "JOIN catalog_prompt p ON p.id = g.prompt_id "
                "WHERE g.status = 'ready' AND p.arena = 't2i' ORDER BY 1"
            )
        ]
    assert len(models) >= 3
    kept, retired = models[:2], models[2:]
    curator.sign_in("gunicorn")

    done = curator.request(
        "gunicorn",
        "POST",
        "/admin/catalog/aimodel/",
        action="retire",
        _selected_action=[str(pk) for pk in retired],
        index="0",
    )
    since = time.time()
    for _ in range(8):
        visitor.battle("gunicorn-2")
    with psycopg.connect(stack.database_url) as db:
        shown = db.execute(
            "SELECT l.model_id, r.model_id FROM battles_battle b "
            "JOIN catalog_generation l ON l.id = b.left_id "
            "JOIN catalog_generation r ON r.id = b.right_id "
            "WHERE b.created_at >= to_timestamp(%s)",
            [since],
        ).fetchall()

    assert done.status_code == 302
    assert len(shown) == 8
    assert all(sorted(pair) == kept for pair in shown)
    with psycopg.connect(stack.database_url) as db:
        db.execute("UPDATE catalog_aimodel SET active = true")
