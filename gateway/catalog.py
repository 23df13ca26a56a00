"""The model catalog: which models exist, who offers them, at what price, doing what.

It is data (`catalog.toml` beside this file, or the file named by `GATEWAY_CATALOG`), read
once into frozen dataclasses. The arena copies it into its database; the router reads it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from gateway.errors import RequestRefused
from gateway.types import ErrorKind, Operation

DEFAULT_PATH = Path(__file__).with_name("catalog.toml")


@dataclass(frozen=True, slots=True)
class OfferingSpec:
    """A model as sold by one provider.

    `price` is per image; `quality_prices` overrides it for the qualities a provider prices
    differently (OpenAI's low / medium / high), so cost follows what the request asked for.
    `pricing_note` says how the provider bills and how that became the per-image figures.
    """

    model: str
    provider: str
    provider_model: str
    price: Decimal
    batch_price: Decimal | None = None
    edit_provider_model: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    quality_prices: Mapping[str, Decimal] = field(default_factory=dict)
    pricing_note: str = ""

    @property
    def key(self) -> str:
        return f"{self.model}@{self.provider}"

    def price_for(self, quality: str | None) -> Decimal:
        return self.quality_prices.get(quality or "", self.price)

    def provider_model_for(self, operation: Operation) -> str:
        if operation is Operation.EDIT and self.edit_provider_model:
            return self.edit_provider_model
        return self.provider_model


@dataclass(frozen=True, slots=True)
class ModelSpec:
    id: str
    name: str
    organization: str
    operations: frozenset[Operation]
    offerings: tuple[OfferingSpec, ...]
    description: str = ""
    max_width: int = 2048
    max_height: int = 2048
    max_n: int = 10
    max_input_images: int = 1
    url: str = ""
    license: str = ""

    @property
    def can_generate(self) -> bool:
        return Operation.GENERATE in self.operations

    @property
    def can_edit(self) -> bool:
        return Operation.EDIT in self.operations


@dataclass(frozen=True, slots=True)
class Catalog:
    models: Mapping[str, ModelSpec]
    provider_names: Mapping[str, str] = field(default_factory=dict)

    def provider_name(self, provider: str) -> str:
        """The name pages show for a provider: the catalog's, or its id if it has none."""
        return self.provider_names.get(provider, provider)

    def model(self, model_id: str) -> ModelSpec:
        try:
            return self.models[model_id]
        except KeyError:
            raise RequestRefused(
                ErrorKind.UNKNOWN_MODEL,
                f"Unknown model '{model_id}'.",
                param="model",
                http_status=404,
            ) from None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.models.values())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Catalog:
        models = {}
        for model_id, entry in data.get("models", {}).items():
            offerings = tuple(
                _offering(model_id, offering) for offering in entry.get("offerings", [])
            )
            models[model_id] = ModelSpec(
                id=model_id,
                name=entry["name"],
                organization=entry["organization"],
                operations=frozenset(Operation(op) for op in entry["operations"]),
                offerings=offerings,
                description=entry.get("description", ""),
                max_width=entry.get("max_width", 2048),
                max_height=entry.get("max_height", 2048),
                max_n=entry.get("max_n", 10),
                max_input_images=entry.get("max_input_images", 1),
                url=entry.get("url", ""),
                license=entry.get("license", ""),
            )
        provider_names = {
            provider: entry["name"] for provider, entry in data.get("providers", {}).items()
        }
        return cls(models=models, provider_names=provider_names)

    @classmethod
    def from_file(cls, path: Path | str) -> Catalog:
        with open(path, "rb") as handle:
            return cls.from_dict(tomllib.load(handle))


def _offering(model_id: str, entry: Mapping[str, Any]) -> OfferingSpec:
    known = {
        "provider",
        "provider_model",
        "price",
        "batch_price",
        "edit_provider_model",
        "quality_prices",
        "pricing_note",
    }
    return OfferingSpec(
        model=model_id,
        provider=entry["provider"],
        provider_model=entry.get("provider_model", model_id),
        price=Decimal(str(entry["price"])),
        batch_price=Decimal(str(entry["batch_price"])) if "batch_price" in entry else None,
        edit_provider_model=entry.get("edit_provider_model"),
        options={key: value for key, value in entry.items() if key not in known},
        quality_prices={
            quality: Decimal(str(price))
            for quality, price in entry.get("quality_prices", {}).items()
        },
        pricing_note=entry.get("pricing_note", ""),
    )


@cache
def default_catalog() -> Catalog:
    return Catalog.from_file(os.environ.get("GATEWAY_CATALOG") or DEFAULT_PATH)
