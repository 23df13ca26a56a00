import pytest

import gateway
from tests.arena.helpers import reset_shared_state, use_local_gateway


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
    """Sessions, vote counters and matchmaking pools outlive a test's database: start clean."""
    reset_shared_state()
    yield
    reset_shared_state()
