"""Image Arena's unified image gateway: one call, any provider. Plain Python, no Django."""

from gateway.catalog import Catalog, ModelSpec, OfferingSpec, default_catalog
from gateway.client import Gateway, default_gateway, set_default_gateway
from gateway.errors import GatewayError
from gateway.types import Attempt, ErrorKind, ImageRequest, ImageResult, Operation

__all__ = [
    "Attempt",
    "Catalog",
    "ErrorKind",
    "Gateway",
    "GatewayError",
    "ImageRequest",
    "ImageResult",
    "ModelSpec",
    "OfferingSpec",
    "Operation",
    "default_catalog",
    "default_gateway",
    "edit",
    "generate",
    "set_default_gateway",
]


def generate(request: ImageRequest) -> ImageResult:
    return default_gateway().generate(request)


def edit(request: ImageRequest) -> ImageResult:
    return default_gateway().edit(request)
