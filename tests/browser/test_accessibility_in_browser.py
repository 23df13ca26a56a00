"""Every public page passes axe-core's WCAG 2 A and AA rules in Chromium, at desktop and phone
widths, before and after a vote; a battle's images say nothing of their models; every control
reached by Tab shows a focus ring that stands out from what is behind it.

axe-core is vendored in tests/browser/vendor/ (see its README); no rule is turned off.
"""

from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WIDTHS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(" ")),
    summary: v.nodes[0].failureSummary.replace(/\\s+/g, " "),
  }));
}"""
PASSWORD = "correct horse battery"
PUBLIC_PAGES = {
    "home": "/",
    "leaderboard-t2i": "/leaderboard/t2i/",
    "leaderboard-edit": "/leaderboard/edit/",
    "leaderboard-me": "/leaderboard/me/",
    "sampling-record": "/leaderboard/sampling/",
    "data": "/leaderboard/data/",
    "model-index": "/models/",
    "model-built-in": "/models/lumen-xl/",
    "model-without-key": "/models/gpt-image-1/",
    "model-with-dot": "/models/flux-1.1-pro/",
    "gallery": "/models/lumen-xl/images/",
    "playground": "/playground/",
    "sign-in": "/account/login/",
}


def axe_violations(page) -> list[dict]:
    if not page.evaluate("() => window.axe !== undefined"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern.
        page.evaluate(AXE.read_text())
    return page.evaluate(RUN_AXE, WCAG_AA)


def describe(where: str, violations: list[dict]) -> str:
    return "\n".join(
        f"{where}: {v['id']} ({v['impact']}) {v['help']}\n"
        f"    at {', '.join(v['targets'][:6])}{' …' if len(v['targets']) > 6 else ''}\n"
        f"    {v['summary']}"
        for v in violations
    )


@pytest.fixture
def site(settings, small_demo, django_user_model):
    """The small demo with votes, every catalog model (keys or none), and a key owner."""
    from arena.catalog.models import AIModel
    from arena.catalog.services import catalog_sync

    settings.ARENA_MIN_VOTES = 1
    small_demo(40)
    catalog_sync()
    assert AIModel.objects.filter(slug__in=["gpt-image-1", "flux-1.1-pro"]).count() == 2
    django_user_model.objects.create_user("ada", password=PASSWORD)


def sign_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/account/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/keys/")


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None
    page.wait_for_load_state("load")


def vote(page) -> None:
    page.get_by_role("button", name="A is better").click()
    page.wait_for_selector(".after-vote")


def walk_the_site(page, base_url: str, check: Callable[[str], None]) -> None:
    """Every public page, both battles before and after a vote, then signed in (ending on the
    account's keys), calling `check` on each."""
    for name, path in PUBLIC_PAGES.items():
        visit(page, f"{base_url}{path}")
        check(name)
    for arena in ("t2i", "edit"):
        visit(page, f"{base_url}/battle/{arena}/")
        check(f"battle-{arena}")
        vote(page)
        check(f"battle-{arena}-voted")
    sign_in(page, base_url)
    check("account-keys")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_public_page_passes_axe(live_server, browser, site, screenshot, width):
    context = browser.new_context(**WIDTHS[width])
    page = context.new_page()
    found = []

    def check(name: str) -> None:
        screenshot(page, f"a11y-{width}-{name}")
        found.append(describe(f"{name} ({page.url})", axe_violations(page)))

    walk_the_site(page, live_server.url, check)
    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response is not None
    assert response.status == 404
    check("not-found")
    visit(page, f"{live_server.url}/account/usage/")
    check("account-usage")
    context.close()

    report = "\n".join(line for line in found if line)
    assert not report, f"axe-core found WCAG 2 A/AA violations at {width} width:\n{report}"


BATTLE_ALTS = """() => [...document.querySelectorAll("[data-side] > .side-image > img")]
  .map(img => img.alt)"""


@pytest.mark.parametrize("arena", ["t2i", "edit"])
def test_battle_images_share_one_alt_text_that_names_no_model(live_server, browser, site, arena):
    from arena.catalog.models import AIModel

    names = [
        word.lower()
        for model in AIModel.objects.all()
        for word in (model.slug, model.name, model.organization)
        if word
    ]
    page = browser.new_page()
    visit(page, f"{live_server.url}/battle/{arena}/")
    before = page.evaluate(BATTLE_ALTS)
    vote(page)
    after = page.evaluate(BATTLE_ALTS)

    assert len(before) == 2
    assert before == after
    assert before[0] == before[1]
    assert before[0].strip()
    assert [name for name in names if name in before[0].lower()] == []
    # after the vote the names are shown, next to the images, not in them
    assert page.locator("[data-model]").count() == 2


# The focused element's ring: its outline or box-shadow, and whether its colour stands out
# (3:1, WCAG 1.4.11) from the first opaque background behind the element.
FOCUS_RING = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const channels = (color) => (color.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = (c) => (c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const contrast = (a, b) => {
    const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (high + 0.05) / (low + 0.05);
  };
  let behind = [255, 255, 255];
  for (let node = element.parentElement; node; node = node.parentElement) {
    const [r, g, b, a = 1] = channels(getComputedStyle(node).backgroundColor);
    if (a === 1) { behind = [r, g, b]; break; }
  }
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  const shadow = style.boxShadow !== "none";
  const ring = outline ? channels(style.outlineColor) : shadow ? channels(style.boxShadow) : null;
  const label = (element.getAttribute("aria-label") || element.textContent || element.name
    || element.id || "").trim().replace(/\\s+/g, " ").slice(0, 40);
  return {
    matches: element.matches(":focus-visible"),
    element: `${element.tagName.toLowerCase()} "${label}"`,
    ring: ring !== null,
    contrast: ring ? contrast(ring.slice(0, 3), behind) : 0,
  };
}"""
MAX_TABS = 250


def tab_through(page) -> list[dict]:
    """Every element Tab reaches, in order, once: until focus comes back to the first."""
    seen, rings = set(), []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring is None:
            continue
        key = page.evaluate("() => document.activeElement.outerHTML.slice(0, 300)")
        if key in seen:
            break
        seen.add(key)
        rings.append(ring)
    return rings


def test_every_control_shows_where_the_keyboard_focus_is(live_server, browser, site):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    reached, missing = 0, []

    def check(name: str) -> None:
        nonlocal reached
        rings = tab_through(page)
        assert rings, f"Tab reaches nothing on {name}"
        reached += len(rings)
        missing.extend(
            f"{name}: {ring['element']} (focus-visible {ring['matches']}, "
            f"ring {ring['ring']}, contrast {ring['contrast']:.1f}:1)"
            for ring in rings
            if not (ring["matches"] and ring["ring"] and ring["contrast"] >= 3)
        )

    walk_the_site(page, live_server.url, check)

    assert reached > 100
    assert missing == [], "focus is not visible on:\n" + "\n".join(missing)
