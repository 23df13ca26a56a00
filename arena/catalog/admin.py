from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.fields import InvalidJSONInput
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import pluralize
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import capfirst

import gateway
from arena.admin import ReadOnlyAdmin
from arena.catalog import importing
from arena.catalog.models import (
    AIModel,
    Arena,
    Category,
    Competition,
    Generation,
    GenerationBatch,
    Offering,
    Prompt,
    Provider,
    ProviderCall,
)
from arena.catalog.services import (
    ImportReport,
    PromptDuplicate,
    SourceImage,
    edit_prompts_import,
    generations_batch_submit,
    generations_retry,
    model_save,
    model_set_active,
    prompt_check,
    prompt_generate,
    prompt_save,
    prompt_set_active,
    prompts_import,
    provider_credit_rest,
    provider_release,
    source_image_read,
)
from arena.catalog.uploads import UploadRejected

MAX_TEXT_IMPORT_BYTES = importing.MAX_TEXT_IMPORT_BYTES
MAX_ZIP_IMPORT_BYTES = importing.MAX_ZIP_IMPORT_BYTES


class PromptImportForm(forms.Form):
    arena = forms.ChoiceField(choices=Arena.choices, initial=Arena.T2I)
    text = forms.CharField(
        label="Paste prompts",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 100}),
        help_text="Text-to-Image: one prompt per line.",
    )
    file = forms.FileField(
        label="…or upload a file",
        required=False,
        help_text="Text-to-Image: CSV with a header row 'text,tags' (tags separated by ; or |), "
        'or JSON Lines: {"text": "...", "tags": ["..."]} per line; at most 5 MB. '
        "Image Editing: a .zip holding manifest.jsonl, one "
        '{"image": "cube.png", "instruction": "Make the sphere red", "tags": ["color"]} per '
        "line, and the images it names (PNG, JPEG or WebP); at most 500 MB.",
    )
    generate = forms.BooleanField(
        label="Generate images for the new prompts right away", required=False, initial=True
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned  # a field's own error says what is wrong; nothing more to add
        upload = cleaned.get("file")
        text = cleaned.get("text", "").strip()
        is_zip = upload is not None and upload.name.lower().endswith(".zip")
        if text and upload:
            raise forms.ValidationError("Paste prompts or choose a file, not both.")
        if cleaned.get("arena") == Arena.EDIT:
            if not is_zip:
                raise forms.ValidationError(
                    "Image Editing prompts come as a .zip with manifest.jsonl and the images."
                )
            if upload.size > MAX_ZIP_IMPORT_BYTES:
                raise forms.ValidationError("The zip is larger than 500 MB.")
        elif not text and not upload:
            raise forms.ValidationError("Paste some prompts or choose a file.")
        elif is_zip:
            raise forms.ValidationError(
                "A .zip holds Image Editing prompts: set the arena to Image Editing."
            )
        elif upload and upload.size > MAX_TEXT_IMPORT_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        return cleaned

    def run_import(self) -> ImportReport:
        """Parse what was pasted or uploaded and create the prompts; raises BundleRejected."""
        upload = self.cleaned_data.get("file")
        if self.cleaned_data["arena"] == Arena.EDIT:
            edits = importing.parse_edit_zip(upload.read())
            return edit_prompts_import(rows=edits.rows, problems=edits.problems)
        if upload:
            parsed = importing.parse_upload(upload.name, upload.read())
        else:
            parsed = importing.parse_lines(self.cleaned_data["text"])
        return prompts_import(arena=Arena.T2I, rows=parsed.rows, problems=parsed.problems)


class TagsField(forms.JSONField):
    """Tags as JSON, shown back with \\u escapes: a lone surrogate typed in as \\ud800 and
    shown raw could not be encoded into the page that says it is refused."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, cls=self.encoder)


class PromptAdminForm(forms.ModelForm):
    tags = TagsField(required=False, initial=list, help_text='A list of words: ["animals", "sky"]')
    source_upload = forms.FileField(
        label="Source image",
        required=False,
        help_text="Image Editing prompts only: PNG, JPEG or WebP, at most 20 MB and 40 "
        "megapixels. It is stored as a clean PNG (orientation applied, metadata removed).",
    )

    class Meta:
        model = Prompt
        fields = ["arena", "text", "tags", "active"]

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        problem = importing.text_problem(text)
        if problem:
            raise forms.ValidationError(f"{capfirst(problem)}.")
        return text

    def clean_tags(self) -> list[str]:
        tags = importing.tags_read(self.cleaned_data.get("tags"))
        if tags is None:
            raise forms.ValidationError(f"{capfirst(importing.TAGS_PROBLEM)}.")
        return list(tags)

    def clean_source_upload(self) -> SourceImage | None:
        upload = self.cleaned_data.get("source_upload")
        if not upload:
            return None
        try:
            return source_image_read(data=upload.read(), filename=upload.name)
        except UploadRejected as exc:
            raise forms.ValidationError(str(exc)) from None

    def _post_clean(self) -> None:
        # Once the form has set the prompt's fields (as Django's UserCreationForm checks a
        # password against its user): the prompt is checked as it would be stored.
        super()._post_clean()
        if self.errors:
            return
        try:
            prompt_check(prompt=self.instance, source=self.cleaned_data.get("source_upload"))
        except UploadRejected as exc:
            self.add_error("source_upload", str(exc))
        except PromptDuplicate as exc:
            self.add_error(None, str(exc))


class CategoryFilter(admin.SimpleListFilter):
    title = "category"
    parameter_name = "category"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(category.pk), str(category)) for category in Category.objects.all()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> QuerySet[Prompt]:
        if self.value() is None:
            return queryset
        chosen = [c for c in Category.objects.all() if str(c.pk) == self.value()]
        return queryset.in_category(chosen[0]) if chosen else queryset.none()


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "arena",
        "category_list",
        "tag_list",
        "progress",
        "active",
        "created_at",
    ]
    list_filter = ["arena", CategoryFilter, "competitions", "active"]
    search_fields = ["text"]
    # Said again here: a model's default ordering does not reach the grouped query that
    # with_progress makes, and the competitions' prompt autocomplete pages through it.
    ordering = ["-created_at", "-id"]
    form = PromptAdminForm
    readonly_fields = ["created_at", "progress", "source_preview", "competition_links"]
    actions = ["generate_images", "generate_batch", "retry_failed", "retire", "reactivate"]
    change_list_template = "admin/catalog/prompt/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Prompt]:
        return super().get_queryset(request).with_progress()

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        # The page's prompts are read once; each learns its categories from one list of them.
        changelist = super().get_changelist_instance(request)
        categories = list(Category.objects.all())
        for prompt in changelist.result_list:
            prompt.categories = prompt.categories_among(categories)
        return changelist

    def get_fields(self, request: HttpRequest, obj: Prompt | None = None) -> list[str]:
        fields = ["arena", "text", "tags", "source_preview", "active"]
        if not _answered(obj):
            fields.insert(4, "source_upload")
        if obj is not None:
            fields += ["competition_links", "progress", "created_at"]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Prompt | None = None) -> list[str]:
        # Images made for a prompt answer its text and picture: those are fixed once images
        # exist (the upload field is left out then). Retire the prompt and add a new one instead.
        if _answered(obj):
            return [*self.readonly_fields, "arena", "text"]
        return self.readonly_fields

    def save_model(
        self, request: HttpRequest, obj: Prompt, form: forms.Form, change: bool
    ) -> None:
        prompt_save(prompt=obj, source=form.cleaned_data.get("source_upload"))

    @admin.display(description="Current source image")
    def source_preview(self, prompt: Prompt) -> str:
        if not prompt.source_image:
            return "–"
        return format_html('<img src="{}" alt="" width="320">', prompt.source_image.url)

    @admin.display(description="Competitions")
    def competition_links(self, prompt: Prompt) -> str:
        links = [
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:catalog_competition_change", args=[competition.pk]),
                competition,
            )
            for competition in prompt.competitions.all()
        ]
        return format_html_join(", ", "{}", ((link,) for link in links)) if links else "–"

    @admin.display(description="Tags")
    def tag_list(self, prompt: Prompt) -> str:
        return ", ".join(prompt.tags)

    @admin.display(description="Categories")
    def category_list(self, prompt: Prompt) -> str:
        return ", ".join(category.name for category in getattr(prompt, "categories", ()))

    @admin.display(description="Images (ready / failed / total)")
    def progress(self, prompt: Prompt) -> str:
        total = getattr(prompt, "generations_total", None)
        if total is None:
            return "–"
        ready, failed = prompt.generations_ready, prompt.generations_failed
        percent = round(100 * ready / total) if total else 0
        failed_shown: object = failed
        if failed:
            # Which models failed, and why, is one click away.
            failed_shown = format_html(
                '<strong><a href="{}?{}" title="Which models failed, and why">{}</a></strong>',
                reverse("admin:catalog_generation_changelist"),
                urlencode({"prompt__id__exact": prompt.pk, "status__exact": "failed"}),
                failed,
            )
        return format_html(
            '<progress max="100" value="{}" title="{}% ready"></progress> '
            '<span class="progress-counts">{} / {} / {}</span>',
            percent,
            percent,
            ready,
            failed_shown,
            total,
        )

    @admin.action(description="Generate images for the selected prompts")
    def generate_images(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        _generate(self, request, queryset.values_list("pk", flat=True))

    @admin.action(description="Generate (batch): images for the selected prompts at batch prices")
    def generate_batch(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        _generate_batch(self, request, queryset.values_list("pk", flat=True))

    @admin.action(description="Retry failed generations of the selected prompts")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        failed = Generation.objects.filter(
            prompt__in=queryset.values("pk"), status=Generation.Status.FAILED
        )
        _retry(self, request, failed.values_list("pk", flat=True))

    @admin.action(description="Retire the selected prompts (they leave the battles)")
    def retire(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        count = prompt_set_active(prompt_ids=queryset.values_list("pk", flat=True), active=False)
        self.message_user(request, f"Retired {count} prompts; their votes and images are kept.")

    @admin.action(description="Bring the selected prompts back into the battles")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        count = prompt_set_active(prompt_ids=queryset.values_list("pk", flat=True), active=True)
        self.message_user(request, f"Reactivated {count} prompts.")

    def get_urls(self) -> list:  # type: ignore[type-arg]
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="catalog_prompt_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        report = None
        form = PromptImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                report = form.run_import()
            except importing.BundleRejected as exc:
                form.add_error("file", str(exc))
        if report is not None:
            if report.created and form.cleaned_data["generate"]:
                queued = prompt_generate(prompt_ids=[prompt.pk for prompt in report.created])
                messages.info(request, f"Queued {queued} generations for the new prompts.")
            created, duplicates, problems = (
                len(report.created),
                len(report.duplicates),
                len(report.problems),
            )
            messages.add_message(
                request,
                messages.WARNING if problems else messages.SUCCESS,
                f"Imported {created} prompt{pluralize(created)}; {duplicates} "
                f"{pluralize(duplicates, 'was,were')} already there; {problems} "
                f"line{pluralize(problems)} had problems.",
            )
            # A fresh form, so pressing Import again does not send the same prompts twice.
            form = PromptImportForm(
                initial={key: form.cleaned_data[key] for key in ("arena", "generate")}
            )
        changelist_url = reverse("admin:catalog_prompt_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import prompts",
            "form": form,
            "report": report,
            "changelist_url": changelist_url,
            "imported_url": _imported_url(changelist_url, report),
        }
        return render(request, "admin/catalog/prompt/import.html", context)


def _imported_url(changelist_url: str, report: ImportReport | None) -> str:
    """The prompt list showing just the prompts an import made, ready for "Generate".

    An id range keeps the address short for the largest import; it may also show a prompt
    another curator added in the same instant, which is harmless to see.
    """
    if report is None or not report.created:
        return ""
    ids = [prompt.pk for prompt in report.created]
    return f"{changelist_url}?{urlencode({'id__gte': min(ids), 'id__lte': max(ids)})}"


def _answered(prompt: Prompt | None) -> bool:
    """Whether images were made for the prompt already."""
    return prompt is not None and prompt.generations.exists()


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "arena", "description", "order", "prompts"]
    list_display_links = ["name"]
    list_editable = ["order"]
    list_filter = ["arena"]
    search_fields = ["name", "slug", "description"]
    fields = ["arena", "name", "slug", "description", "order"]

    @admin.display(description="Prompts")
    def prompts(self, category: Category) -> str:
        count = Prompt.objects.in_category(category).count()
        url = reverse("admin:catalog_prompt_changelist") + f"?category={category.pk}"
        return format_html('<a href="{}">{}</a>', url, count)


class CompetitionAdminForm(forms.ModelForm):
    class Meta:
        model = Competition
        fields = ["arena", "name", "slug", "description", "order", "prompts"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        arena, prompts = cleaned.get("arena"), cleaned.get("prompts")
        if arena and prompts is not None:
            strays = [prompt for prompt in prompts if prompt.arena != arena]
            if strays:
                self.add_error(
                    "prompts",
                    f"A {Arena(arena).label} competition holds {Arena(arena).label} prompts "
                    f"only; remove {len(strays)} of the other arena: "
                    + "; ".join(str(prompt) for prompt in strays[:3])
                    + ("..." if len(strays) > 3 else "."),
                )
        return cleaned


def _generate(modeladmin: admin.ModelAdmin, request: HttpRequest, prompt_ids: Any) -> None:
    queued = prompt_generate(prompt_ids=prompt_ids)
    if not queued:
        modeladmin.message_user(
            request,
            "Nothing to generate: every image of the selected prompts is made or on its way "
            "(failed ones come back with “Retry failed generations”; retired prompts and "
            "models without a provider key are left out).",
            messages.WARNING,
        )
        return
    modeladmin.message_user(
        request,
        f"Queued {queued} generation{pluralize(queued)}: reload this page to follow them. "
        "Images already made are kept and not paid for again.",
    )


def _retry(modeladmin: admin.ModelAdmin, request: HttpRequest, generation_ids: Any) -> None:
    retried = generations_retry(generation_ids=generation_ids)
    if not retried:
        modeladmin.message_user(
            request, "Nothing to retry: none of the selected has failed.", messages.WARNING
        )
        return
    modeladmin.message_user(
        request,
        f"Retrying {retried} failed generation{pluralize(retried)}: reload this page to "
        "follow them.",
    )


def _generate_batch(modeladmin: admin.ModelAdmin, request: HttpRequest, prompt_ids: Any) -> None:
    report = generations_batch_submit(prompt_ids=prompt_ids)
    modeladmin.message_user(
        request,
        f"Sent {report.batched} generations in {len(report.batches)} provider batches "
        f"(made within 24 hours at the batch price); queued {report.direct} for direct "
        "calls (models without a batch offering, editing prompts). Images already made "
        "are kept and not paid for again.",
    )
    for error in report.errors:
        modeladmin.message_user(
            request, f"A batch was refused, its generations go direct: {error}", messages.WARNING
        )


@admin.register(Competition)
class CompetitionAdmin(admin.ModelAdmin):
    list_display = ["name", "arena", "slug", "order", "prompt_count", "created_at"]
    list_display_links = ["name"]
    list_editable = ["order"]
    list_filter = ["arena"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    # Autocomplete rather than a list of every prompt: a competition may draw from thousands.
    autocomplete_fields = ["prompts"]
    form = CompetitionAdminForm
    readonly_fields = ["created_at"]

    actions = ["generate_images", "generate_batch"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Competition]:
        return super().get_queryset(request).with_prompt_counts()

    @admin.action(description="Generate images for the selected competitions' prompts")
    def generate_images(self, request: HttpRequest, queryset: QuerySet[Competition]) -> None:
        _generate(self, request, _competition_prompts(queryset))

    @admin.action(
        description="Generate (batch): the selected competitions' prompts at batch prices"
    )
    def generate_batch(self, request: HttpRequest, queryset: QuerySet[Competition]) -> None:
        _generate_batch(self, request, _competition_prompts(queryset))

    @admin.display(description="Prompts", ordering="prompt_count")
    def prompt_count(self, competition: Competition) -> str:
        url = (
            reverse("admin:catalog_prompt_changelist")
            + f"?competitions__id__exact={competition.pk}"
        )
        return format_html('<a href="{}">{}</a>', url, competition.prompt_count)


def _competition_prompts(competitions: QuerySet[Competition]) -> list[int]:
    return list(
        Prompt.objects.filter(competitions__in=competitions)
        .distinct()
        .values_list("pk", flat=True)
    )


class OfferingInline(admin.TabularInline):
    model = Offering
    extra = 0


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "organization", "can_generate", "can_edit", "active"]
    list_filter = ["active", "can_generate", "can_edit", "organization"]
    search_fields = ["name", "slug", "organization"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OfferingInline]
    actions = ["retire", "reactivate"]

    def save_model(
        self, request: HttpRequest, obj: AIModel, form: forms.Form, change: bool
    ) -> None:
        model_save(model=obj)

    @admin.action(description="Retire the selected models (they leave the battles)")
    def retire(self, request: HttpRequest, queryset: QuerySet[AIModel]) -> None:
        count = model_set_active(model_ids=queryset.values_list("pk", flat=True), active=False)
        self.message_user(request, f"Retired {count} models; their ratings and images are kept.")

    @admin.action(description="Bring the selected models back into the battles")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[AIModel]) -> None:
        count = model_set_active(model_ids=queryset.values_list("pk", flat=True), active=True)
        self.message_user(request, f"Reactivated {count} models.")


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "credit"]
    actions = ["topped_up"]

    @admin.display(description="Account")
    def credit(self, provider: Provider) -> str:
        rest = provider_credit_rest(provider.slug)
        if rest is None:
            return "–"
        return format_html(
            "<strong>Out of credit</strong>: not called for {} min more, "
            "or until it is marked topped up",
            max(1, round(rest / 60)),
        )

    @admin.action(description="Topped up: call the selected providers again")
    def topped_up(self, request: HttpRequest, queryset: QuerySet[Provider]) -> None:
        released = provider_release(slugs=queryset.values_list("slug", flat=True))
        self.message_user(
            request,
            f"Calling {', '.join(released)} again."
            if released
            else "None of them was resting for want of credit.",
        )


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["prompt", "model", "status", "runs", "short_error", "finished_at"]
    list_filter = ["status", "prompt__arena", "model"]
    search_fields = ["prompt__text", "model__name", "error"]
    list_select_related = ["prompt", "model"]
    readonly_fields = [
        "prompt",
        "model",
        "status",
        "preview",
        "error",
        "runs",
        "batch",
        "job",
        "created_at",
        "started_at",
        "finished_at",
    ]
    exclude = ["image", "thumbnail"]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Error")
    def short_error(self, generation: Generation) -> str:
        return generation.error[:80]

    @admin.display(description="Image")
    def preview(self, generation: Generation) -> str:
        if not generation.thumbnail:
            return "–"
        return format_html(
            '<img src="{}" width="256" height="256" alt="">', generation.thumbnail.url
        )

    @admin.action(description="Retry the selected failed generations")
    def retry(self, request: HttpRequest, queryset: QuerySet[Generation]) -> None:
        _retry(self, request, queryset.values_list("pk", flat=True))


@admin.register(ProviderCall)
class ProviderCallAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "model",
        "provider",
        "source",
        "operation",
        "ok",
        "outcome",
        "http_status",
        "ttfb_ms",
        "total_ms",
        "images",
        "cost",
        "provider_request_id",
        "seed",
        "flags",
        "short_revised_prompt",
    ]
    list_filter = ["ok", "source", "operation", "provider", "error_kind", "model"]
    search_fields = ["provider_request_id"]
    list_select_related = ["model", "provider"]
    date_hierarchy = "started_at"

    @admin.display(description="Error kind", ordering="error_kind")
    def outcome(self, call: ProviderCall) -> str:
        # An account out of credit stops every call to the provider until someone pays: it
        # must not read like one more transient error in the list.
        if call.error_kind == gateway.ErrorKind.QUOTA_EXHAUSTED:
            return format_html("<strong>{}</strong>", "out of credit")
        return call.error_kind or "–"

    @admin.display(description="Safety flags")
    def flags(self, call: ProviderCall) -> str:
        return "; ".join(call.safety_flags) or "–"

    @admin.display(description="Revised prompt")
    def short_revised_prompt(self, call: ProviderCall) -> str:
        return call.revised_prompt[:80] or "–"


@admin.register(GenerationBatch)
class GenerationBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "submitted_at",
        "model",
        "provider",
        "status",
        "requests",
        "made",
        "given_back",
        "refused",
        "finished_at",
    ]
    list_filter = ["status", "provider", "model"]
    list_select_related = ["model", "provider"]
    # The label finds the batch in the provider's dashboard (OpenAI metadata, Gemini's name).
    readonly_fields = ["requests", "label"]
    date_hierarchy = "submitted_at"

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # The provider runs (and bills) the batch whatever happens to this row; without it,
        # the images it makes would never be stored.
        return False

    @admin.display(description="Requests")
    def requests(self, batch: GenerationBatch) -> int:
        return len(batch.generation_ids)
