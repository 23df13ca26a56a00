"""The models index's filters and sorts, read from the query string. Every value a person can
type is checked here, so a bad one is a 400 with a sentence, never an error page."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.http import QueryDict

from arena.catalog.models import OPERATION, Arena, Provider
from arena.pages.figures import IndexRow

CAPABILITIES = [("generate", "Generates images"), ("edit", "Edits images")]
SORTS = [("rating", "Rating"), ("price", "Price"), ("speed", "Speed")]
FILTERS = ("arena", "provider", "capability", "min_price", "max_price")


def _price(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=4,
        label=label,
        error_messages={
            "invalid": f"The {label.lower()} must be a number of dollars per image, like 0.04.",
            "min_value": f"The {label.lower()} cannot be below $0.",
            "max_digits": f"The {label.lower()} is too large a number.",
            "max_decimal_places": f"The {label.lower()} has more than 4 decimal places.",
            "max_whole_digits": f"The {label.lower()} is too large a number.",
        },
    )


class ModelIndexQuery(forms.Form):
    arena = forms.ChoiceField(
        required=False,
        choices=[("", "Any arena"), *Arena.choices],
        error_messages={
            "invalid_choice": "There is no arena called “%(value)s”: "
            "pick t2i (Text-to-Image) or edit (Image Editing)."
        },
    )
    provider = forms.ChoiceField(
        required=False,
        error_messages={"invalid_choice": "No provider called “%(value)s” sells any model here."},
    )
    capability = forms.ChoiceField(
        required=False,
        choices=[("", "Any capability"), *CAPABILITIES],
        error_messages={
            "invalid_choice": "“%(value)s” is not a capability: pick generate or edit."
        },
    )
    min_price = _price("Lowest price")
    max_price = _price("Highest price")
    sort = forms.ChoiceField(
        required=False,
        choices=SORTS,
        error_messages={
            "invalid_choice": "The list cannot be sorted by “%(value)s”: "
            "pick rating, price or speed."
        },
    )

    def __init__(self, data: QueryDict, *, providers: list[Provider]) -> None:
        super().__init__(data)
        self.fields["provider"].choices = [
            ("", "Any provider"),
            *(
                (provider.slug, provider.name)
                for provider in sorted(providers, key=lambda provider: provider.sort_key)
            ),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError("The lowest price is above the highest price.")
        return cleaned

    def problems(self) -> list[str]:
        return [str(error) for errors in self.errors.values() for error in errors]

    def select(self, rows: list[IndexRow]) -> list[IndexRow]:
        """The rows that pass the filters, in the chosen order (ties by name)."""
        data = self.cleaned_data
        arena, low, high = data["arena"], data["min_price"], data["max_price"]
        if arena:
            rows = [row for row in rows if arena in row.ratings]
        if data["provider"]:
            rows = [row for row in rows if data["provider"] in row.provider_slugs]
        if data["capability"]:
            rows = [row for row in rows if data["capability"] in row.model.capabilities]
        if low is not None:
            rows = [row for row in rows if row.price is not None and row.price >= low]
        if high is not None:
            rows = [row for row in rows if row.price is not None and row.price <= high]
        rows = sorted(rows, key=lambda row: row.model.name.lower())
        return sorted(rows, key=_ORDER[self.sort_by](arena))

    @property
    def sort_by(self) -> str:
        return self.cleaned_data.get("sort") or "rating"

    def link(self, **change: str) -> str:
        """This query string with some values changed (empty ones left out)."""
        values = {name: self.data.get(name, "") for name in (*FILTERS, "sort")} | change
        query = QueryDict(mutable=True)
        query.update({name: value for name, value in values.items() if value})
        return f"?{query.urlencode()}" if query else "?"


def _by_rating(arena: str) -> Any:
    def key(row: IndexRow) -> float:
        ratings = [row.ratings[arena]] if arena in row.ratings else []
        if not arena:
            ratings = list(row.ratings.values())
        return -max((rating.rating for rating in ratings), default=-math.inf)

    return key


def _by_price(arena: str) -> Any:
    return lambda row: row.price if row.price is not None else math.inf


def _by_speed(arena: str) -> Any:
    operation = OPERATION[Arena(arena)] if arena else None

    def key(row: IndexRow) -> float:
        ms = row.fastest_ms(operation)
        return ms if ms is not None else math.inf

    return key


_ORDER = {"rating": _by_rating, "price": _by_price, "speed": _by_speed}
