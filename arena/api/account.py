"""A key owner's pages under /account/: sign in and out, their API keys, their usage.

Accounts are made by the staff in the admin; there is no public sign-up. Everything here
reads and writes only the signed-in user's own keys: another user's key is a 404, as if it
did not exist.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from arena.api.models import ApiKey, ImageJob
from arena.api.services import api_key_create, api_keys_revoke
from arena.ratelimit import allowance_take
from arena.visitors import client_ip

USAGE_DAYS = 30  # the range shown when none is asked for, today included
USAGE_MAX_DAYS = 366
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class SignIn(LoginView):
    """Django's sign-in, with a cap on attempts per address against password guessing."""

    template_name = "account/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = allowance_take("signin", ip=client_ip(request)).refused
        if refused is not None:
            context = self.get_context_data(form=self.get_form(), refused=refused.cap.sentence)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(refused.retry_after)
            return response
        return super().post(request, *args, **kwargs)


class KeyForm(forms.Form):
    name = forms.CharField(
        max_length=ApiKey._meta.get_field("name").max_length,
        help_text="Who or what will use it, so you know which key to revoke later.",
    )


@never_cache  # the page that shows a new key's secret is never kept by a cache
@login_required
@require_http_methods(["GET", "POST"])
def keys(request: HttpRequest) -> HttpResponse:
    """The user's keys, and a new one: its full text is shown in this answer only."""
    form = KeyForm(request.POST if request.method == "POST" else None)
    created = None
    if form.is_bound and form.is_valid():
        created = api_key_create(name=form.cleaned_data["name"], user_id=request.user.pk)
        form = KeyForm()
    context = {
        "keys": ApiKey.objects.owned_by(request.user),
        "form": form,
        "created": created,
        "nav_account": "keys",
    }
    return render(request, "account/keys.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    """GET asks to confirm; POST revokes."""
    key = get_object_or_404(ApiKey.objects.owned_by(request.user), pk=key_id)
    if request.method == "POST":
        api_keys_revoke(key_ids=[key.pk])
        messages.success(request, f"Revoked {key}: requests with it are refused from now on.")
        return redirect("account:keys")
    return render(request, "account/revoke.html", {"key": key, "nav_account": "keys"})


class UsageRange(forms.Form):
    """The days to show, both included: the last 30 unless asked otherwise."""

    start = forms.DateField(required=False)
    end = forms.DateField(required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        end = cleaned.get("end") or timezone.localdate()
        start = cleaned.get("start") or end - timedelta(days=USAGE_DAYS - 1)
        if start > end:
            raise forms.ValidationError("The first day must not be after the last day.")
        if (end - start).days + 1 > USAGE_MAX_DAYS:
            raise forms.ValidationError(f"Ask for at most {USAGE_MAX_DAYS} days at a time.")
        cleaned.update(start=start, end=end)
        return cleaned

    def problem(self) -> str:
        """What is wrong with the range, in one sentence per field."""
        sentences = []
        for field, errors in self.errors.items():
            label = "" if field == NON_FIELD_ERRORS else f"{field.title()} day: "
            sentences += [f"{label}{error}" for error in errors]
        return " ".join(sentences)


@dataclass(frozen=True, slots=True)
class Usage:
    start: date
    end: date
    rows: list[dict[str, Any]]
    requests: int
    images: int
    cost: Decimal
    errors: int


def _usage(request: HttpRequest, form: UsageRange) -> Usage:
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    rows = list(
        ImageJob.objects.of_keys_owned_by(request.user).created_between(start, end).usage_by_day()
    )
    return Usage(
        start=start,
        end=end,
        rows=rows,
        requests=sum(row["requests"] for row in rows),
        images=sum(row["images"] for row in rows),
        cost=sum((row["cost"] for row in rows), Decimal("0")),
        errors=sum(row["errors"] for row in rows),
    )


@login_required
@require_GET
def usage(request: HttpRequest) -> HttpResponse:
    """Per key and per day: requests, images, cost and errors, with a total."""
    form = UsageRange(request.GET)  # bound even when empty: the defaults are its cleaning's
    context: dict[str, Any] = {"form": form, "nav_account": "usage"}
    if not form.is_valid():
        context["problem"] = form.problem()
        return render(request, "account/usage.html", context, status=400)
    context["usage"] = _usage(request, form)
    return render(request, "account/usage.html", context)


@login_required
@require_GET
def usage_csv(request: HttpRequest) -> HttpResponse:
    """The usage page's figures as CSV, one row per key and day, then the total."""
    form = UsageRange(request.GET)
    if not form.is_valid():
        return HttpResponse(form.problem(), status=400, content_type="text/plain; charset=utf-8")
    found = _usage(request, form)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="image-arena-usage-{found.start}-to-{found.end}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["day", "key", "key prefix", "requests", "images", "cost (USD)", "errors"])
    for row in found.rows:
        writer.writerow(
            [
                row["day"].isoformat(),
                _cell(row["api_key__name"]),
                f"ia-{row['api_key__prefix']}",
                row["requests"],
                row["images"],
                f"{row['cost']:.4f}",
                row["errors"],
            ]
        )
    writer.writerow(
        ["total", "", "", found.requests, found.images, f"{found.cost:.4f}", found.errors]
    )
    return response


def _cell(text: str) -> str:
    """A name as text, never as a formula, when the file is opened in a spreadsheet."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
