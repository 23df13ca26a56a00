"""What a model page says about the model from the gateway's declarations: what it is, what it
can do, who sells it at what price, how to call it, and the FAQ written from those facts.

Everything here comes from the gateway's catalog (in memory) and the model's offerings (one
query), so the sections cost the same whatever the number of models and calls.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

import gateway
from arena.catalog.models import AIModel, Offering, cheapest_offering
from arena.catalog.services import model_routable
from arena.pages.figures import KIND
from arena.pages.templatetags.arena_format import usd

# What a provider may do with a request parameter, explained once on the page.
BEHAVIOURS = (
    (gateway.ParamMode.PASSTHROUGH, "sent to the provider as given, under the same name"),
    (gateway.ParamMode.RENAMED, "sent as given, under the provider's own name for it"),
    (
        gateway.ParamMode.CONVERTED,
        "translated into the provider's form (a size into the nearest aspect ratio it takes, "
        "files into data URIs)",
    ),
    (
        gateway.ParamMode.EMULATED,
        "done by the gateway itself (several images by parallel calls, URLs or base64 by the API)",
    ),
)
# Request fields that only an edit sends.
EDIT_PARAMS = frozenset({"images", "mask"})
# The gateway's field for the parameters the API does not know, as the page names it.
OTHER_PARAMS = "extra"

EXAMPLE_PROMPT = "A lighthouse on a cliff at dusk, warm light in its windows"
EXAMPLE_EDIT = "Convert to black and white"
EXAMPLE_SIZE = "1024x1024"
EXAMPLE_SOURCE = "photo.png"
KEY_VARIABLE = "ARENA_API_KEY"
# JSON inside a data block: nothing in it may close the element or open a comment.
JSON_LD_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@dataclass(frozen=True)
class OfferingAbout:
    """One provider's offering as the page shows it: the stored row (name, prices) beside the
    gateway's declaration of it (shapes, parameters, notes)."""

    offering: Offering
    spec: gateway.OfferingSpec | None
    can_edit: bool
    max_input_images: int

    @property
    def provider(self) -> str:
        return self.offering.provider.name

    @property
    def price(self) -> str:
        return usd(self.offering.price_per_image)

    @property
    def batch_price(self) -> str | None:
        batch = self.offering.batch_price_per_image
        return usd(batch) if batch is not None else None

    @property
    def edit_provider_model(self) -> str | None:
        """The provider's model id for edits, when it is not the one for generation."""
        edit = self.spec.edit_provider_model if self.spec else None
        return edit if self.can_edit and edit and edit != self.offering.provider_model else None

    @property
    def quality_prices(self) -> list[tuple[str, str]]:
        if self.spec is None:
            return []
        return [(quality, usd(price)) for quality, price in self.spec.quality_prices.items()]

    @property
    def pricing_note(self) -> str:
        return self.spec.pricing_note if self.spec else ""

    @property
    def rules(self) -> dict[str, gateway.ParamRule]:
        return gateway.normalization_table(self.spec) if self.spec else {}

    @property
    def shown_rules(self) -> list[tuple[str, gateway.ParamRule]]:
        """The parameters this model's requests can carry, with what the provider does."""
        return [
            (name, rule)
            for name, rule in self.rules.items()
            if name != OTHER_PARAMS and (self.can_edit or name not in EDIT_PARAMS)
        ]

    @property
    def other_params(self) -> gateway.ParamRule | None:
        return self.rules.get(OTHER_PARAMS)

    @property
    def passes_others(self) -> bool:
        rule = self.other_params
        return rule is not None and rule.mode is not gateway.ParamMode.UNSUPPORTED

    @property
    def takes_mask(self) -> bool:
        mask = self.rules.get("mask")
        return (
            self.can_edit and mask is not None and mask.mode is not gateway.ParamMode.UNSUPPORTED
        )

    @property
    def takes(self) -> str:
        if not self.can_edit:
            return "text"
        images = (
            "an image" if self.max_input_images == 1 else f"up to {self.max_input_images} images"
        )
        return f"text and {images}" + (", with a mask" if self.takes_mask else "")

    @property
    def shapes(self) -> str:
        """The sizes it takes, in a phrase."""
        if self.spec is None:
            return ""
        shapes = gateway.offering_shapes(self.spec)
        if shapes.sizes:
            return "sizes " + ", ".join(shapes.sizes)
        if shapes.aspect_ratios:
            return "aspect ratios " + ", ".join(shapes.aspect_ratios)
        return "any size up to the maximum"


@dataclass(frozen=True)
class Resolution:
    """The largest image the model makes. When every provider makes only sizes it names (OpenAI's
    three), that is the largest of those by pixel count (`largest`; several when they tie, like
    1536x1024 and 1024x1536); otherwise only the per-side limits a request may ask for are
    known (`largest` empty), and the page says "up to" them."""

    width: int
    height: int
    largest: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()  # every fixed size, when there are only fixed sizes

    @classmethod
    def of(cls, spec: gateway.ModelSpec, offerings: list[OfferingAbout]) -> Resolution:
        fixed = [
            gateway.offering_shapes(about.spec).sizes if about.spec else () for about in offerings
        ]
        if not offerings or not all(fixed):
            return cls(spec.max_width, spec.max_height)
        sizes = tuple(dict.fromkeys(size for sizes in fixed for size in sizes))
        areas = {size: math.prod(map(int, size.split("x"))) for size in sizes}
        top = max(areas.values())
        largest = tuple(size for size in sizes if areas[size] == top)
        width, height = map(int, largest[0].split("x"))
        return cls(width, height, largest, sizes)

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1_000_000

    @property
    def label(self) -> str:
        """The capabilities section's figure."""
        if self.largest:
            return f"{' or '.join(self.largest)} ({self.megapixels:.1f} megapixels)"
        return f"up to {self.width}x{self.height}"

    def answer(self) -> str:
        """The FAQ's answer."""
        if self.largest:
            return (
                f"{' or '.join(self.largest)} pixels ({self.megapixels:.1f} megapixels), the "
                f"largest of the sizes it makes: {', '.join(self.sizes)}."
            )
        return (
            f"Up to {self.width}x{self.height} pixels: the widest and tallest image a request "
            "may ask for."
        )


@dataclass(frozen=True)
class Snippet:
    language: str
    label: str
    code: str


@dataclass(frozen=True)
class Example:
    """One call of the API, as request parameters and as code in each language."""

    operation: str
    title: str
    path: str
    params: dict[str, str]
    snippets: list[Snippet] = field(default_factory=list)


def model_about(model: AIModel, *, api_base: str) -> dict[str, Any]:
    """The context of the header, capabilities, integrate, pricing, API, normalization and FAQ
    sections of the model page. `api_base` is the absolute URL of the OpenAI-compatible API."""
    spec = gateway.default_gateway().catalog.models.get(model.slug)
    declared = {offering.provider: offering for offering in spec.offerings} if spec else {}
    offerings = [
        OfferingAbout(
            offering=offering,
            spec=declared.get(offering.provider.slug),
            can_edit=model.can_edit,
            max_input_images=spec.max_input_images if spec else 1,
        )
        for offering in sorted(
            model.offerings.select_related("provider"), key=lambda row: row.provider.sort_key
        )
    ]
    by_offering = {about.offering: about for about in offerings}
    cheapest = by_offering.get(cheapest_offering(by_offering))
    cheapest_batch = by_offering.get(cheapest_offering(by_offering, batch=True))
    batched = [about for about in offerings if about.batch_price is not None]
    resolution = Resolution.of(spec, offerings) if spec else None
    routable = model_routable(model.slug)
    examples = _examples(model, spec, offerings, api_base)
    context = {
        "kind": KIND[model.can_generate, model.can_edit],
        "spec": spec,
        "resolution": resolution,
        "about_offerings": offerings,
        "cheapest": cheapest,
        "cheapest_batch": cheapest_batch,
        "batch_providers": [about.provider for about in batched],
        "mask_providers": [about.provider for about in offerings if about.takes_mask],
        "routable": routable,
        "playground_url": f"{reverse('api:playground')}?{urlencode({'model': model.slug})}",
        "api_base": api_base,
        "examples": examples,
        "behaviours": BEHAVIOURS,
    }
    faq = _faq(model, spec, offerings, cheapest, cheapest_batch, routable, api_base, resolution)
    context["faq"] = faq
    context["faq_json_ld"] = json_ld(
        {
            "@context": "https://schema.org",
            "@type": "FAQPage",
            "mainEntity": [
                {
                    "@type": "Question",
                    "name": question,
                    "acceptedAnswer": {"@type": "Answer", "text": answer},
                }
                for question, answer in faq
            ],
        }
    )
    return context


def api_base(request: HttpRequest) -> str:
    """The absolute URL of the OpenAI-compatible API, as this request reached the site."""
    return request.build_absolute_uri(reverse("api:models").removesuffix("/models"))


def json_ld(data: object) -> SafeString:
    """JSON to put as it is inside the page's JSON-LD data block (templates/pages/model/_faq.html),
    with the characters that could end the block escaped."""
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(JSON_LD_ESCAPES))


def _example_size(offerings: list[OfferingAbout]) -> str:
    """A size every provider of the model takes as it is: OpenAI's first named size, if any."""
    for about in offerings:
        if about.spec and (sizes := gateway.offering_shapes(about.spec).sizes):
            return sizes[0]
    return EXAMPLE_SIZE


def _examples(
    model: AIModel,
    spec: gateway.ModelSpec | None,
    offerings: list[OfferingAbout],
    api_base: str,
) -> list[Example]:
    examples = []
    if model.can_generate:
        params = {"model": model.slug, "prompt": EXAMPLE_PROMPT, "size": _example_size(offerings)}
        examples.append(
            Example(
                "generate",
                "Text to image",
                "/images/generations",
                params,
                _generation_snippets(api_base, params),
            )
        )
    if model.can_edit:
        params = {"model": model.slug, "prompt": EXAMPLE_EDIT}
        examples.append(
            Example(
                "edit", "Image edit", "/images/edits", params, _edit_snippets(api_base, params)
            )
        )
    return examples


def _arguments(params: dict[str, str]) -> tuple[str, str]:
    """The request's parameters as keyword arguments in Python and as an object's lines in
    JavaScript; a JSON string is a string literal in both."""
    python = "".join(f"    {name}={json.dumps(value)},\n" for name, value in params.items())
    javascript = "".join(f"  {name}: {json.dumps(value)},\n" for name, value in params.items())
    return python, javascript


def _generation_snippets(api_base: str, params: dict[str, str]) -> list[Snippet]:
    body = json.dumps(params, indent=2)
    python_args, js_args = _arguments(params)
    return [
        Snippet(
            "curl",
            "curl",
            f"curl -X POST {api_base}/images/generations \\\n"
            f'  -H "Authorization: Bearer ${KEY_VARIABLE}" \\\n'
            '  -H "Content-Type: application/json" \\\n'
            f"  -d '{body}'",
        ),
        Snippet(
            "javascript",
            "JavaScript (openai)",
            'import OpenAI from "openai";\n\n'
            f"const client = new OpenAI({{ baseURL: {json.dumps(api_base)}, "
            f"apiKey: process.env.{KEY_VARIABLE} }});\n"
            f"const result = await client.images.generate({{\n{js_args}}});\n"
            "console.log(result.data[0].url);",
        ),
        Snippet(
            "python",
            "Python (openai)",
            "import os\n\nfrom openai import OpenAI\n\n"
            f"client = OpenAI(base_url={json.dumps(api_base)}, "
            f'api_key=os.environ["{KEY_VARIABLE}"])\n'
            f"result = client.images.generate(\n{python_args})\n"
            "print(result.data[0].url)",
        ),
    ]


def _edit_snippets(api_base: str, params: dict[str, str]) -> list[Snippet]:
    fields = "".join(f"  -F {name}={json.dumps(value)} \\\n" for name, value in params.items())
    python_args, js_args = _arguments(params)
    return [
        Snippet(
            "curl",
            "curl",
            f"curl -X POST {api_base}/images/edits \\\n"
            f'  -H "Authorization: Bearer ${KEY_VARIABLE}" \\\n'
            f'{fields}  -F image="@{EXAMPLE_SOURCE}"',
        ),
        Snippet(
            "javascript",
            "JavaScript (openai)",
            'import fs from "node:fs";\nimport OpenAI from "openai";\n\n'
            f"const client = new OpenAI({{ baseURL: {json.dumps(api_base)}, "
            f"apiKey: process.env.{KEY_VARIABLE} }});\n"
            f"const result = await client.images.edit({{\n{js_args}"
            f'  image: fs.createReadStream("{EXAMPLE_SOURCE}"),\n}});\n'
            "console.log(result.data[0].url);",
        ),
        Snippet(
            "python",
            "Python (openai)",
            "import os\n\nfrom openai import OpenAI\n\n"
            f"client = OpenAI(base_url={json.dumps(api_base)}, "
            f'api_key=os.environ["{KEY_VARIABLE}"])\n'
            f"result = client.images.edit(\n{python_args}"
            f'    image=open("{EXAMPLE_SOURCE}", "rb"),\n)\n'
            "print(result.data[0].url)",
        ),
    ]


def _faq(
    model: AIModel,
    spec: gateway.ModelSpec | None,
    offerings: list[OfferingAbout],
    cheapest: OfferingAbout | None,
    cheapest_batch: OfferingAbout | None,
    routable: bool,
    api_base: str,
    resolution: Resolution | None,
) -> list[tuple[str, str]]:
    """Questions and answers, each sentence built from the facts the sections above show."""
    name = model.name
    faq = []
    if cheapest:
        cost = f"{name} costs from {cheapest.price} per image through {cheapest.provider}."
        if cheapest_batch:
            cost += (
                f" In batch mode it costs from {cheapest_batch.batch_price} per image "
                f"through {cheapest_batch.provider}."
            )
        if not routable:
            cost += " No provider key is set on this server, so these are what it would cost."
        faq.append((f"How much does {name} cost?", cost))
    abilities = []
    if model.can_generate:
        abilities.append("makes images from a text prompt")
    if model.can_edit:
        sources = spec.max_input_images if spec else 1
        images = "an image" if sources == 1 else f"up to {sources} images"
        abilities.append(f"edits {images} from a text instruction")
    can_do = f"{name} {' and '.join(abilities) or 'makes images'}."
    if spec:
        can_do += f" It returns up to {spec.max_n} images per request."
    if masks := [about.provider for about in offerings if about.takes_mask]:
        can_do += f" A mask limits an edit to part of the image through {_and(masks)}."
    faq.append((f"What can {name} do?", can_do))
    how = (
        f"Through the OpenAI-compatible API at {api_base} with the model id {model.slug}, "
        "using any OpenAI client (curl, the openai package for JavaScript or Python)."
    )
    if not routable:
        how += " No provider key is set on this server, so it can't be called here yet."
    faq.append((f"How do I call {name}?", how))
    if offerings:
        providers = [about.provider for about in offerings]
        count = f"{len(providers)} provider{'s' if len(providers) != 1 else ''}"
        faq.append(
            (
                f"Which providers offer {name}?",
                f"{name} is available from {count}: {_and(providers)}.",
            )
        )
    if resolution:
        faq.append((f"What is the maximum resolution of {name}?", resolution.answer()))
    return faq


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
