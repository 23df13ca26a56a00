"""Under the Content-Security-Policy, Chromium blocks nothing on any page: public pages, votes in
both arenas, charts, htmx swaps, the playground, and the admin."""

import pytest
from django.contrib.auth import get_user_model

from arena.catalog.models import AIModel, Prompt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# Playwright injects this before any page script; CSP does not apply to it.
WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber} on ${location.pathname}`);
});
"""
CHARTS_DRAWN = (
    "() => window.Chart && [...document.querySelectorAll('canvas[data-chart]')]"
    ".every(canvas => Chart.getChart(canvas))"
)


@pytest.fixture
def demo(small_demo):
    small_demo(40)
    get_user_model().objects.create_superuser("curator", "c@example.com", "pw")


def test_no_page_breaks_the_content_security_policy(live_server, browser, demo):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    violations, console, errors, policies = [], [], [], set()
    page.expose_function("cspViolation", lambda line: violations.append(line))
    page.add_init_script(WATCH)
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            policies.add(response.headers.get("content-security-policy"))
            if response.request.resource_type == "document"
            else None
        ),
    )

    def visit(path: str) -> None:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")

    visit("/")
    for arena in ("t2i", "edit"):
        visit(f"/battle/{arena}/")
        page.wait_for_function("() => window.htmx !== undefined")
        page.get_by_role("button", name="A is better").click()  # htmx swaps the reveal in
        page.wait_for_selector("[data-model]")
        page.keyboard.press("n")
        page.wait_for_selector("form.vote")
    visit("/leaderboard/t2i/")
    page.get_by_role("tab", name="Image Editing").click()
    page.wait_for_url(f"{live_server.url}/leaderboard/edit/")
    visit("/models/")
    model = AIModel.objects.filter(ratings__isnull=False).order_by("slug").first()
    visit(model.get_absolute_url())
    page.wait_for_function(CHARTS_DRAWN)
    visit("/leaderboard/data/")
    visit("/leaderboard/sampling/")
    visit("/playground/")
    page.fill("#play-prompt", "Three yellow apples on a wooden table")
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("#result img")

    visit("/admin/")
    page.fill("#id_username", "curator")
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#site-name")
    prompt = Prompt.objects.filter(generations__isnull=True).first() or Prompt.objects.first()
    for path in (
        "/admin/",
        "/admin/catalog/prompt/",
        "/admin/catalog/prompt/import/",
        "/admin/catalog/prompt/add/",
        f"/admin/catalog/prompt/{prompt.pk}/change/",
        "/admin/catalog/generation/",
        "/admin/catalog/aimodel/",
        f"/admin/catalog/aimodel/{model.pk}/change/",
        "/admin/battles/vote/",
        "/admin/ratings/ratingrun/",
        "/admin/api/apikey/add/",
        "/admin/auth/user/",
    ):
        visit(path)
    page.check("#action-toggle")  # the admin's own scripts run
    page.select_option("select[name=action]", index=1)

    assert violations == []
    assert [line for line in console if "Content Security Policy" in line] == []
    assert errors == []
    assert len(policies) == 1  # every page sent the same policy
    assert "script-src 'self'" in next(iter(policies))

    # The watch itself works: an inline style is caught.
    page.evaluate(
        "() => document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">')"
    )
    page.wait_for_timeout(200)
    assert violations
    assert all(line.startswith("style-src-attr blocked inline") for line in violations)
