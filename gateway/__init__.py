"""Image Arena's unified image gateway: one call, any provider. Plain Python, no Django."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gateway.catalog import Catalog, ModelSpec, OfferingSpec, default_catalog
from gateway.errors import GatewayError, JobDetached, RequestRefused
from gateway.types import (
    Attempt,
    ErrorKind,
    ImageRequest,
    ImageResult,
    JobRef,
    Operation,
    PartialImages,
)

if TYPE_CHECKING:
    from gateway.batch import (
        BatchGateway,
        BatchLine,
        BatchPoll,
        BatchState,
        default_batch_gateway,
        set_default_batch_gateway,
    )
    from gateway.client import Gateway, default_gateway, set_default_gateway
    from gateway.normalize import ParamMode, ParamRule, Shapes
    from gateway.providers import PROVIDER_IDS, normalization_table, offering_shapes
    from gateway.routing import Router, RoutingPolicy
    from gateway.window import MemoryWindow, RedisWindow

__all__ = [
    "PROVIDER_IDS",
    "Attempt",
    "BatchGateway",
    "BatchLine",
    "BatchPoll",
    "BatchState",
    "Catalog",
    "ErrorKind",
    "Gateway",
    "GatewayError",
    "ImageRequest",
    "ImageResult",
    "JobDetached",
    "JobRef",
    "MemoryWindow",
    "ModelSpec",
    "OfferingSpec",
    "Operation",
    "ParamMode",
    "ParamRule",
    "PartialImages",
    "RedisWindow",
    "RequestRefused",
    "Router",
    "RoutingPolicy",
    "Shapes",
    "default_batch_gateway",
    "default_catalog",
    "default_gateway",
    "edit",
    "generate",
    "normalization_table",
    "offering_shapes",
    "set_default_batch_gateway",
    "set_default_gateway",
]

# The client stack (httpx, routing, the Redis window, the providers) loads on first use, so a
# process that only needs the gateway's types (a web page, a management command) does not pay
# for it at start-up.
_LAZY = {
    "BatchGateway": "gateway.batch",
    "BatchLine": "gateway.batch",
    "BatchPoll": "gateway.batch",
    "BatchState": "gateway.batch",
    "default_batch_gateway": "gateway.batch",
    "set_default_batch_gateway": "gateway.batch",
    "Gateway": "gateway.client",
    "default_gateway": "gateway.client",
    "set_default_gateway": "gateway.client",
    "ParamMode": "gateway.normalize",
    "ParamRule": "gateway.normalize",
    "Shapes": "gateway.normalize",
    "normalization_table": "gateway.providers",
    "offering_shapes": "gateway.providers",
    "PROVIDER_IDS": "gateway.providers",
    "Router": "gateway.routing",
    "RoutingPolicy": "gateway.routing",
    "MemoryWindow": "gateway.window",
    "RedisWindow": "gateway.window",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'gateway' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


def generate(request: ImageRequest, **options: Any) -> ImageResult:
    """`Gateway.generate` on the process's gateway; `options` are its job, on_job, detach and
    partials (streaming)."""
    from gateway.client import default_gateway

    return default_gateway().generate(request, **options)


def edit(request: ImageRequest, **options: Any) -> ImageResult:
    from gateway.client import default_gateway

    return default_gateway().edit(request, **options)
