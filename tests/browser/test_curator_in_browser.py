"""A curator's path through the admin in Chromium: sign in, bulk import prompts, press
"Generate", follow the progress, see which model failed and why, press "Retry", see every
image made.

The generations run on a real Celery worker (threads, consuming Redis), as in production, not
eagerly inside the request: so the action answers at once, and the progress column is what
the curator reloads to follow the work, as they would.
"""

import re
import time

import pytest

from tests.arena.helpers import use_local_gateway

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PROMPTS = [
    "A red ball on the left and a blue cube on the right",
    "A house under a starry night sky with a crescent moon",
    "Three yellow apples on a white plate",
]
COUNTS = re.compile(r"(\d+)\s*/\s*(\d+)\s*/\s*(\d+)")  # ready / failed / total


def progress(page) -> list[tuple[int, int, int]]:
    cells = page.locator(".progress-counts").all_inner_texts()
    return [tuple(int(n) for n in COUNTS.search(cell).groups()) for cell in cells]


def reload_until(page, finished, timeout: float = 60) -> list[tuple[int, int, int]]:
    """Reload the prompt list, as a curator does, until `finished(progress)`."""
    deadline = time.monotonic() + timeout
    while not finished(counts := progress(page)):
        assert time.monotonic() < deadline, f"the progress stayed at {counts}"
        page.wait_for_timeout(200)  # the curator's pause between reloads
        page.reload()
    return counts


def run_action(page, label: str) -> str:
    page.locator("#action-toggle").check()
    page.get_by_role("combobox", name="Action").select_option(label=label)
    page.get_by_role("button", name="Run", exact=True).click()
    return page.locator(".messagelist").inner_text()


def test_a_curator_imports_generates_follows_and_retries(live_server, browser, worker, screenshot):
    from django.contrib.auth import get_user_model

    from arena.catalog.models import Generation, Prompt
    from arena.catalog.services import catalog_sync

    catalog_sync()
    get_user_model().objects.create_superuser("curator", "c@example.com", "pw")
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}/admin/catalog/prompt/")
    page.get_by_role("link", name="Import prompts").click()
    page.get_by_role("button", name="Import").click()  # nothing pasted, no file
    assert page.get_by_text("Paste some prompts or choose a file.").is_visible()
    assert not Prompt.objects.exists()

    page.get_by_label("Paste prompts").fill("\n".join([*PROMPTS, "x" * 5000]))
    page.get_by_label("Generate images for the new prompts right away").uncheck()
    page.get_by_role("button", name="Import").click()
    screenshot(page, "curator-imported")
    assert page.get_by_text("Imported 3 prompts; 0 were already there; 1 line had problems.")
    assert page.get_by_text("Line 4: the prompt text is longer than").is_visible()
    assert page.get_by_label("Paste prompts").input_value() == ""  # a fresh form
    assert not page.get_by_label("Generate images for the new prompts right away").is_checked()
    assert Generation.objects.count() == 0

    page.get_by_role("link", name="See the imported prompts").click()
    page.wait_for_url("**/admin/catalog/prompt/?id__gte=*")
    assert sorted(page.locator("#result_list tbody th").all_inner_texts()) == sorted(PROMPTS)
    use_local_gateway(fail_rates={"sketchbook": 1.0})
    message = run_action(page, "Generate images for the selected prompts")
    assert message.startswith("Queued 18 generations")
    screenshot(page, "curator-generating")
    assert all(total == 6 and ready + failed <= total for ready, failed, total in progress(page))

    counts = reload_until(page, lambda counts: all(r + f == t for r, f, t in counts))
    screenshot(page, "curator-one-model-failed")
    assert counts == [(5, 1, 6)] * 3
    page.locator(".progress-counts a").first.click()
    page.wait_for_url("**/admin/catalog/generation/?*")
    screenshot(page, "curator-failed-generations")
    assert page.locator("#result_list tbody tr").count() == 1
    row = page.locator("#result_list tbody tr").inner_text()
    assert "Sketchbook" in row
    assert "simulated overload" in row
    page.go_back()

    use_local_gateway()  # the model is back
    message = run_action(page, "Retry failed generations of the selected prompts")
    assert message.startswith("Retrying 3 failed generations")
    counts = reload_until(page, lambda counts: all(r == t for r, _, t in counts))
    screenshot(page, "curator-retried")
    assert counts == [(6, 0, 6)] * 3
    assert page.locator(".progress-counts a").count() == 0
    assert Generation.objects.filter(status=Generation.Status.READY).count() == 18
    assert (
        list(Generation.objects.filter(model__slug="sketchbook").values_list("runs", flat=True))
        == [2] * 3
    )
