import re

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.http import Http404
from django.urls import URLPattern, include, path, re_path, register_converter
from django.views.defaults import page_not_found

from arena.api.outputs import FOLDER
from arena.api.services import JOB_INPUTS
from arena.catalog.hooks import fal_webhook, replicate_webhook
from arena.converters import (
    ArenaConverter,
    BattleTokenConverter,
    ModelIdConverter,
    SideConverter,
)
from arena.health import healthz, readyz

register_converter(ArenaConverter, "arena")
register_converter(SideConverter, "side")
register_converter(ModelIdConverter, "model_id")
register_converter(BattleTokenConverter, "battle_token")

urlpatterns = [
    path("", include("arena.pages.urls")),
    path("battle/", include("arena.battles.urls")),
    path("leaderboard/", include("arena.ratings.urls")),
    path("", include("arena.api.urls")),
    path("account/", include("arena.api.account_urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("hooks/fal/", fal_webhook, name="fal-webhook"),
    path("hooks/replicate/", replicate_webhook, name="replicate-webhook"),
]


def media_urlpatterns() -> list[URLPattern]:
    """Media as stored, in DEBUG; never the API's images, which only their signed URLs serve,
    nor a caller's uploads."""
    media = re.escape(settings.MEDIA_URL.lstrip("/"))
    return [
        re_path(rf"^{media}(?:{FOLDER}|{JOB_INPUTS})/", page_not_found, {"exception": Http404()}),
        *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
    ]


if settings.DEBUG:
    urlpatterns += media_urlpatterns()
