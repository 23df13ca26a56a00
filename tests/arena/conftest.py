from dataclasses import replace

import pytest

import gateway
from gateway.providers.local import LocalProvider


def local_catalog(fail_rates: dict[str, float] | None = None) -> gateway.Catalog:
    """The shipped catalog with the simulated failure rates replaced (0 unless named)."""
    fail_rates = fail_rates or {}
    models = {
        model_id: replace(
            spec,
            offerings=tuple(
                replace(
                    offering,
                    options={**offering.options, "fail_rate": fail_rates.get(model_id, 0)},
                )
                for offering in spec.offerings
            ),
        )
        for model_id, spec in gateway.default_catalog().models.items()
    }
    return gateway.Catalog(models=models)


def use_local_gateway(fail_rates: dict[str, float] | None = None) -> gateway.Gateway:
    router = gateway.Gateway(
        catalog=local_catalog(fail_rates), providers={"local": LocalProvider(latency_scale=0)}
    )
    gateway.set_default_gateway(router)
    return router


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
