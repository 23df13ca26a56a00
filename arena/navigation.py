"""Which part of the site a page belongs to, for the main navigation's current link."""

from __future__ import annotations

from django.http import HttpRequest

SECTIONS = {"battles": "vote", "ratings": "leaderboard", "api": "playground", "account": "account"}
MODEL_PAGES = {"model_list", "model_detail"}


def nav(request: HttpRequest) -> dict[str, str]:
    """`nav`: vote, edit, leaderboard, models, playground or account (a view may say
    otherwise)."""
    match = request.resolver_match
    if match is None:
        return {}
    if match.namespace == "battles" and match.kwargs.get("arena") == "edit":
        return {"nav": "edit"}
    if match.namespace == "pages":
        return {"nav": "models"} if match.url_name in MODEL_PAGES else {}
    section = SECTIONS.get(match.namespace)
    return {"nav": section} if section else {}
