from django.urls import path
from django.views.generic import RedirectView

from arena.ratings import views

app_name = "ratings"
urlpatterns = [
    path(
        "",
        RedirectView.as_view(pattern_name="ratings:leaderboard", permanent=False),
        {"arena": "t2i"},
    ),
    path("data/", views.vote_data, name="data"),
    path("me/", views.personal, name="personal"),
    path("me/<slug:token>/", views.personal_shared, name="personal_shared"),
    path("sampling/", views.sampling, name="sampling"),
    path("<arena:arena>/", views.leaderboard, name="leaderboard"),
]
