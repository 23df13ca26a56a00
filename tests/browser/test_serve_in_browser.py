"""`make serve`'s stack in Chromium: deploy/serve.sh (nginx with TLS in front of gunicorn, the
workers and beat, DEBUG off, secure cookies) on a port of its own. Over https a visitor keeps
their session, votes, and a curator signs in to the admin; battle images come through nginx's
X-Accel-Redirect without the headers that would date them."""

import pytest

from tests.serve_stack import serve_stack

pytestmark = [pytest.mark.browser, pytest.mark.serve]

PORT = 18843


@pytest.fixture
def served():
    with serve_stack(port=PORT, database="served") as stack:
        stack.manage(
            "createsuperuser",
            "--noinput",
            DJANGO_SUPERUSER_USERNAME="curator",
            DJANGO_SUPERUSER_EMAIL="curator@example.org",
            DJANGO_SUPERUSER_PASSWORD="a-long-curator-password",
        )
        yield stack.url


def test_over_tls_a_visitor_keeps_the_session_votes_and_a_curator_signs_in(browser, served):
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()

    page.goto(f"{served}/battle/t2i/")
    image = page.request.get(served + page.locator("[data-side] img").first.get_attribute("src"))
    page.get_by_role("button", name="A is better").click()
    page.wait_for_selector("[data-model]")
    session = {c["name"]: c for c in context.cookies()}["sessionid"]
    page.goto(f"{served}/battle/t2i/")
    page.get_by_role("button", name="B is better").click()
    page.wait_for_selector("[data-model]")

    assert session["secure"]
    assert session["httpOnly"]
    assert {c["name"]: c for c in context.cookies()}["sessionid"]["value"] == session["value"]
    assert image.status == 200
    assert image.headers["content-type"] == "image/png"
    assert image.body()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "etag" not in image.headers
    assert "last-modified" not in image.headers

    page.goto(f"{served}/admin/")
    page.fill("#id_username", "curator")
    page.fill("#id_password", "a-long-curator-password")
    page.get_by_role("button", name="Log in").click()

    assert page.url == f"{served}/admin/"
    assert page.get_by_text("Site administration").is_visible()
    context.close()
