from django.contrib.auth.views import LogoutView
from django.urls import path

from arena.api import account

app_name = "account"
urlpatterns = [
    path("login/", account.SignIn.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("keys/", account.keys, name="keys"),
    path("keys/<int:key_id>/revoke/", account.key_revoke, name="key_revoke"),
    path("usage/", account.usage, name="usage"),
    path("usage.csv", account.usage_csv, name="usage_csv"),
]
