from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, register_converter

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
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("hooks/fal/", fal_webhook, name="fal-webhook"),
    path("hooks/replicate/", replicate_webhook, name="replicate-webhook"),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
