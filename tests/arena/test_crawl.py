"""Every page of the demo answers: a crawl of the public site from `/`, one vote in each arena,
and as staff every admin list, one change page per model and the prompt import page."""

from __future__ import annotations

import io
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)


class Links(HTMLParser):
    """Every URL a page leads to: links, images, scripts, stylesheets, hx-get and GET forms."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.hx_urls: list[str] = []
        self.forms: list[dict[str, str]] = []
        self.csrf_token = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        for name in ("href", "src"):
            if attr.get(name):
                self.urls.append(attr[name])
        if attr.get("hx-get"):
            self.urls.append(attr["hx-get"])
            self.hx_urls.append(attr["hx-get"])
        if tag == "form":
            self.forms.append(attr)
            if attr.get("method", "get").lower() == "get" and attr.get("action"):
                self.urls.append(attr["action"])
        if tag == "input" and attr.get("name") == "csrfmiddlewaretoken":
            self.csrf_token = attr.get("value", "")


def same_site(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("", "http") and parts.netloc in ("", "testserver")


class Crawler:
    def __init__(self, client: Client, *, follow: bool = True) -> None:
        self.client = client
        self.follow = follow
        self.seen: set[str] = set()
        self.visited: list[str] = []
        self.failures: list[tuple[int, str]] = []
        self.queue: deque[str] = deque()

    def add(self, base: str, url: str) -> None:
        absolute = urljoin(base, url)
        if not same_site(absolute):
            return
        parts = urlsplit(absolute)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if target not in self.seen:
            self.seen.add(target)
            self.queue.append(target)

    def crawl(self, *starts: str) -> None:
        for start in starts:
            self.add(start, start)
        while self.queue:
            self.visit(self.queue.popleft())

    def visit(self, url: str) -> Links | None:
        self.visited.append(url)
        status, response = self.fetch(url)
        if status >= 400:
            self.failures.append((status, url))
            return None
        if response is None:
            return None
        if 300 <= status < 400:
            self.add(url, response["Location"])
            return None
        if not response.get("Content-Type", "").startswith("text/html"):
            return None
        links = Links()
        links.feed(response.content.decode())
        for link in links.urls if self.follow else ():
            self.add(url, link)
        for link in links.hx_urls:  # the partial an htmx request gets
            partial = self.client.get(urljoin(url, link), headers={"HX-Request": "true"})
            if partial.status_code >= 400:
                self.failures.append((partial.status_code, f"{link} (htmx)"))
        return links

    def fetch(self, url: str):
        path = unquote(urlsplit(url).path)
        static_url = "/" + settings.STATIC_URL.lstrip("/")
        if path.startswith(static_url):  # what the web server serves in production
            found = finders.find(path.removeprefix(static_url))
            return (200 if found else 404), None
        if path.startswith(settings.MEDIA_URL):
            exists = default_storage.exists(path.removeprefix(settings.MEDIA_URL))
            return (200 if exists else 404), None
        response = self.client.get(url)
        return response.status_code, response

    def vote(self, arena: str) -> None:
        """Open a battle, vote left as a browser without JavaScript does, follow the reveal."""
        page = f"/battle/{arena}/"
        self.seen.add(page)
        links = self.visit(page)
        assert links is not None, f"{page} did not answer"
        form = next(form for form in links.forms if form.get("class") == "vote")
        response = self.client.post(
            form["action"], {"choice": "left", "csrfmiddlewaretoken": links.csrf_token}
        )
        if response.status_code >= 400:
            self.failures.append((response.status_code, f"POST {form['action']}"))
            return
        reveal = response["Location"] if response.status_code in (301, 302, 303) else None
        assert reveal, "a vote without JavaScript redirects to the revealed battle"
        self.seen.discard(urlsplit(reveal).path)
        self.add(form["action"], reveal)
        self.crawl()


@pytest.fixture
def demo(settings):
    settings.ARENA_IMAGE_SIZE = 128
    settings.ARENA_THUMBNAIL_SIZE = 64
    settings.ARENA_RENDITIONS = 1
    call_command("seed_demo", "--votes", "60", "--threads", "4", stdout=io.StringIO())


def test_every_page_of_the_demo_answers(demo):
    visitor = Crawler(Client(enforce_csrf_checks=True, raise_request_exception=False))
    visitor.crawl("/")
    for arena in ("t2i", "edit"):
        visitor.vote(arena)

    curator = get_user_model().objects.create_superuser("curator", "c@example.com", "pw")
    staff = Crawler(Client(raise_request_exception=False), follow=False)
    staff.client.force_login(curator)
    as_curator = RequestFactory().get("/admin/")
    as_curator.user = curator
    pages = [reverse("admin:index"), reverse("admin:catalog_prompt_import")]
    for model, model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append(reverse(f"{name}_changelist"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"{name}_change", args=[first.pk]))
        if model_admin.has_add_permission(as_curator):
            pages.append(reverse(f"{name}_add"))
    for page in pages:
        staff.visit(page)

    failures = visitor.failures + staff.failures
    visited = len(visitor.visited) + len(staff.visited)
    kinds = Counter("/".join(url.split("/")[:3]) for url in visitor.visited + staff.visited)
    print(f"crawled {visited} URLs {dict(kinds)}; failures: {failures}")
    assert visited > 50
    assert failures == [], f"{len(failures)} of {visited} URLs failed: {failures}"
