import io
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.arena.conftest import worker  # noqa: F401 (a real Celery worker, for the admin's path)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if not executable:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Debian's chromium is missing: `make test` installs it")
        pytest.skip("needs Debian's chromium (`make test` installs it)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    from tests.arena.helpers import reset_shared_state

    settings.MEDIA_ROOT = tmp_path / "media"
    reset_shared_state()
    yield
    reset_shared_state()


@pytest.fixture(autouse=True)
def local_gateway():
    """The built-in models without their simulated latency and random failures: a browser
    test waits on what it sees, and a failure made on purpose would only time it out."""
    import gateway
    from tests.arena.helpers import use_local_gateway

    yield use_local_gateway()
    gateway.set_default_gateway(None)


@pytest.fixture
def arena_with_images(settings):
    """Every built-in model's images for two text-to-image prompts."""
    from arena.catalog.services import catalog_sync, prompt_generate
    from tests.factories import PromptFactory

    settings.ARENA_IMAGE_SIZE = 384
    catalog_sync()
    prompts = [
        PromptFactory(text="A red ball on the left and a blue cube on the right"),
        PromptFactory(text="A house under a starry night sky with a crescent moon"),
    ]
    prompt_generate(prompt_ids=[prompt.pk for prompt in prompts])


SMALL_DEMO = """
[[t2i]]
text = "A red ball on the left and a blue cube on the right"
competition = "shapes"

[[t2i]]
text = "A house under a starry night sky with a crescent moon"
competition = "shapes"

[[edit]]
source_prompt = "A glass cube on a wooden table with a small blue sphere inside"
instruction = "Make the sphere red"

[[competition]]
slug = "shapes"
arena = "t2i"
name = "Shapes Cup"
description = "Where things are, and what colour."
"""


@pytest.fixture
def small_demo(settings, tmp_path):
    """`seed_demo` on two text-to-image prompts and one edit, small images; call it with the
    number of simulated votes."""
    settings.ARENA_IMAGE_SIZE = 128
    settings.ARENA_THUMBNAIL_SIZE = 64

    def seed(votes: int) -> None:
        prompts = tmp_path / "prompts.toml"
        prompts.write_text(SMALL_DEMO)
        call_command(
            "seed_demo", "--prompts", prompts, "--votes", str(votes), stdout=io.StringIO()
        )

    return seed
