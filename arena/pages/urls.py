from django.urls import path

from arena.pages import views

app_name = "pages"
urlpatterns = [
    path("", views.home, name="home"),
    path("models/", views.model_list, name="model_list"),
    path("models/<model_id:slug>/", views.model_detail, name="model_detail"),
    path("models/<model_id:slug>/images/", views.model_images, name="model_images"),
    path("models/<model_id:slug>/images/<int:pk>/", views.model_image, name="model_image"),
    path(
        "models/<model_id:slug>/competitions/<slug:competition>/",
        views.model_competition,
        name="model_competition",
    ),
]
