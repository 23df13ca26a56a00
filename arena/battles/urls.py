from django.urls import path

from arena.battles import views

app_name = "battles"
urlpatterns = [
    path("<arena:arena>/", views.battle_new, name="new"),
    path("<battle_token:token>/", views.battle_detail, name="detail"),
    path("<battle_token:token>/quality/", views.quality_vote, name="quality"),
    path("<battle_token:token>/<side:side>.png", views.battle_image, name="image"),
]
