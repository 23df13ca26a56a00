"""What a model page says about the model from the gateway's declarations: what it is, what it
can do, who sells it at what price, how to call it, and the FAQ written from those facts."""

from __future__ import annotations

from typing import Any

from arena.catalog.models import AIModel
from arena.pages.figures import KIND


def model_about(model: AIModel) -> dict[str, Any]:
    """The context of the header, capabilities, integrate, pricing, API, normalization and FAQ
    sections of the model page."""
    return {
        "kind": KIND[model.can_generate, model.can_edit],
        "offerings": list(model.offerings.select_related("provider")),
    }
