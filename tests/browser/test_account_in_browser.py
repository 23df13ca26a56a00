"""A key owner's pages on a phone (390 x 844) in Chromium, signed in through the form: nothing
scrolls sideways, tables scroll in their own box, and a new key's secret wraps."""

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.browser.test_phone_in_browser import PHONE, assert_fits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_account_pages_fit_a_phone(live_server, browser, screenshot, django_user_model):
    from django.utils import timezone

    from arena.api.models import ImageJob
    from arena.api.services import api_key_create
    from arena.catalog.models import AIModel
    from arena.catalog.services import catalog_sync

    catalog_sync()
    owner = django_user_model.objects.create_user("ada", password="correct horse battery")
    key, _ = api_key_create(name="a render farm with a rather long name", user_id=owner.pk)
    for days_ago in range(3):
        job = ImageJob.objects.create(
            source="api",
            api_key=key,
            operation="generate",
            model=AIModel.objects.get(slug="prism-2"),
            prompt="A cube",
            seed=1,
            status="ready",
            images=["api/a.png"],
            cost=Decimal("0.0400"),
        )
        ImageJob.objects.filter(pk=job.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/account/usage/")
    page.wait_for_load_state("load")
    assert "/account/login/" in page.url
    screenshot(page, "phone-account-sign-in")
    assert_fits(page, "sign-in")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/usage/")
    assert page.locator("table.usage tbody tr").count() == 3
    screenshot(page, "phone-account-usage")
    assert_fits(page, "usage")

    page.goto(f"{live_server.url}/account/keys/")
    page.get_by_label("Name").fill("phone")
    page.get_by_role("button", name="Make a key").click()
    page.wait_for_selector("#new-key")
    assert page.locator("#new-key").inner_text().startswith("ia-")
    screenshot(page, "phone-account-keys")
    assert_fits(page, "keys with a new key")

    page.get_by_role("link", name="Revoke…").first.click()
    page.wait_for_selector("text=Revoke the key")
    screenshot(page, "phone-account-revoke")
    assert_fits(page, "revoke")
    assert errors == []
    context.close()
