"""Small formatting filters for the public pages."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def seconds(milliseconds: float | None) -> str:
    """A duration given in milliseconds, as people read it: "850 ms", "2.4 s", "41 s"."""
    if milliseconds is None:
        return "–"
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    if milliseconds < 10_000:
        return f"{milliseconds / 1000:.1f} s"
    return f"{milliseconds / 1000:.0f} s"


@register.filter
def percent(share: float | None) -> str:
    """A share between 0 and 1 as a percentage to one decimal: "55.6%"."""
    if share is None:
        return "–"
    return f"{share * 100:.1f}%"


@register.filter
def usd(amount: Decimal) -> str:
    """A price as every page shows it: at least three decimals ($0.040), more only when it has
    them ($0.0336)."""
    exponent = amount.normalize().as_tuple().exponent
    places = max(3, -exponent if isinstance(exponent, int) else 3)
    return f"${amount:.{places}f}"
