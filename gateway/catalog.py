"""The model catalog: which models exist, who offers them, at what price, doing what.

It is data (`catalog.toml` beside this file, or the file named by `GATEWAY_CATALOG`), read
once into frozen dataclasses. The arena copies it into its database; the router reads it.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from gateway.errors import RequestRefused
from gateway.types import ErrorKind, Operation

DEFAULT_PATH = Path(__file__).with_name("catalog.toml")
# Token prices are quoted in USD per million tokens, as the providers publish them.
PER_TOKEN = Decimal("0.000001")
# The token kinds a price may be given for; a kind without a price costs nothing.
TOKEN_KINDS = frozenset({"input_text", "input_image", "output_text", "output_image"})
# fal prices "per megapixel" with 1024x1024 as one, rounding each image up to whole ones.
MEGAPIXEL = 1024 * 1024


@dataclass(frozen=True, slots=True)
class OfferingSpec:
    """A model as sold by one provider.

    `price` is per image; `quality_prices` overrides it for the qualities a provider prices
    differently (OpenAI's low / medium / high), so cost follows what the request asked for.
    `pricing_note` says how the provider bills and how that became the per-image figures.
    Where the provider reports what it bills by, the catalog prices that instead and `price`
    is the fallback for an answer that does not say: `token_prices` (USD per million tokens
    of each of TOKEN_KINDS, for the usage OpenAI and Gemini report) and `megapixel_price`
    (USD per started megapixel of each image, for fal models that bill by area).
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
    token_prices: Mapping[str, Decimal] = field(default_factory=dict)
    megapixel_price: Decimal | None = None

    @property
    def key(self) -> str:
        return f"{self.model}@{self.provider}"

    def price_for(self, quality: str | None) -> Decimal:
        return self.quality_prices.get(quality or "", self.price)

    def token_cost(self, tokens: Mapping[str, int]) -> Decimal | None:
        """The price of the tokens a provider reported, by kind; None when the catalog has no
        token prices for this offering (the caller then falls back to the per-image price)."""
        if not self.token_prices:
            return None
        return sum(
            (
                self.token_prices.get(kind, Decimal("0")) * PER_TOKEN * max(0, count)
                for kind, count in tokens.items()
            ),
            Decimal("0"),
        )

    def megapixel_cost(self, dimensions: Iterable[tuple[int, int]]) -> Decimal | None:
        """The price of images billed by their started megapixels; None without a price."""
        if self.megapixel_price is None:
            return None
        return sum(
            (
                self.megapixel_price * max(1, math.ceil(width * height / MEGAPIXEL))
                for width, height in dimensions
            ),
            Decimal("0"),
        )

    def provider_model_for(self, operation: Operation) -> str:
        if operation is Operation.EDIT and self.edit_provider_model:
            return self.edit_provider_model
        return self.provider_model


# The longest prompt a model takes unless the catalog says otherwise (DALL-E 3's; the arena's
# own prompts keep to it, as every model is sent them).
DEFAULT_MAX_PROMPT_CHARS = 4000


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
    max_prompt_chars: int = DEFAULT_MAX_PROMPT_CHARS
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
                max_prompt_chars=entry.get("max_prompt_chars", DEFAULT_MAX_PROMPT_CHARS),
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
        "token_prices",
        "megapixel_price",
    }
    unknown = set(entry.get("token_prices", {})) - TOKEN_KINDS
    if unknown:
        raise ValueError(f"{model_id}: unknown token kinds {sorted(unknown)} in token_prices")
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
        token_prices={
            kind: Decimal(str(price)) for kind, price in entry.get("token_prices", {}).items()
        },
        megapixel_price=(
            Decimal(str(entry["megapixel_price"])) if "megapixel_price" in entry else None
        ),
    )


@cache
def default_catalog() -> Catalog:
    return Catalog.from_file(os.environ.get("GATEWAY_CATALOG") or DEFAULT_PATH)
