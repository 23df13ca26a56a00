"""Image Arena's unified image gateway: one call, any provider. Plain Python, no Django."""

from gateway.catalog import Catalog, ModelSpec, OfferingSpec, default_catalog
from gateway.client import Gateway, default_gateway, set_default_gateway
from gateway.errors import GatewayError
from gateway.normalize import ParamMode, ParamRule
from gateway.providers import normalization_table
from gateway.routing import Router, RoutingPolicy
from gateway.types import Attempt, ErrorKind, ImageRequest, ImageResult, Operation
from gateway.window import MemoryWindow, RedisWindow

__all__ = [
    "Attempt",
    "Catalog",
    "ErrorKind",
    "Gateway",
    "GatewayError",
    "ImageRequest",
    "ImageResult",
    "MemoryWindow",
    "ModelSpec",
    "OfferingSpec",
    "Operation",
    "ParamMode",
    "ParamRule",
    "RedisWindow",
    "Router",
    "RoutingPolicy",
    "default_catalog",
    "default_gateway",
    "edit",
    "generate",
    "normalization_table",
    "set_default_gateway",
]


def generate(request: ImageRequest) -> ImageResult:
    return default_gateway().generate(request)


def edit(request: ImageRequest) -> ImageResult:
    return default_gateway().edit(request)
