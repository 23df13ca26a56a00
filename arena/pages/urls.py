from django.urls import path

from arena.pages import views

app_name = "pages"
urlpatterns = [
    path("", views.home, name="home"),
    path("models/", views.model_list, name="model_list"),
    path("models/<model_id:slug>/", views.model_detail, name="model_detail"),
]
