from django.urls import path, re_path

from arena.api import files, views

app_name = "api"
urlpatterns = [
    path("openai/v1/models", views.models_list, name="models"),
    path("openai/v1/models/<model_id:model_id>", views.model_retrieve, name="model"),
    path("openai/v1/images/generations", views.images_generations, name="generations"),
    path("openai/v1/images/edits", views.images_edits, name="edits"),
    path("openai/v1/images/jobs/<uuid:job_id>", views.image_job_retrieve, name="job"),
    # Only what images_save names: 32 hex digits and one of its extensions, in `api/`.
    re_path(
        r"^openai/v1/files/images/(?P<name>[0-9a-f]{32}\.(?:png|jpg|webp))$",
        files.image_file,
        name="image_file",
    ),
    re_path(r"^openai/(?P<path>.*)$", views.not_found),
    path("playground/", views.playground, name="playground"),
]
