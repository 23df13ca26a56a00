import pytest

import gateway
from tests.arena.helpers import use_local_gateway


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test writes its images into its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def local_gateway():
    """The built-in models, without simulated latency or failures."""
    yield use_local_gateway()
    gateway.set_default_gateway(None)


@pytest.fixture(autouse=True)
def empty_cache():
    """Sessions and vote counters live in the cache (Redis in the tests): start each test clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
