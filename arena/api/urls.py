from django.urls import path, re_path

from arena.api import views

app_name = "api"
urlpatterns = [
    path("openai/v1/models", views.models_list, name="models"),
    path("openai/v1/models/<model_id:model_id>", views.model_retrieve, name="model"),
    path("openai/v1/images/generations", views.images_generations, name="generations"),
    path("openai/v1/images/edits", views.images_edits, name="edits"),
    path("openai/v1/images/jobs/<uuid:job_id>", views.image_job_retrieve, name="job"),
    re_path(r"^openai/(?P<path>.*)$", views.not_found),
    path("playground/", views.playground, name="playground"),
]
