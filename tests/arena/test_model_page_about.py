"""The model page's sections about the model itself (header, capabilities, ready to integrate,
providers and pricing, API, parameter normalization, FAQ), for a local model, a real model
without a provider key, a model id with dots and a model that only edits."""

import html
import io
import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

import gateway
from arena.api.services import api_key_create
from arena.catalog.services import catalog_sync
from arena.pages.about import json_ld
from tests.factories import AIModelFactory, png_bytes

pytestmark = pytest.mark.django_db

LOCAL, KEYLESS, DOTTED, EDIT_ONLY = "lumen-xl", "gpt-image-1", "flux-1.1-pro", "retouch"
MODELS = (LOCAL, KEYLESS, DOTTED, EDIT_ONLY)
SECTIONS = ("capabilities", "integrate", "pricing", "api", "normalization", "faq")
KEYLESS_SENTENCE = (
    "No provider key is set on this server, so it can't be called here; prices are what "
    "it would cost."
)


@pytest.fixture(autouse=True)
def catalog():
    catalog_sync()
    return gateway.default_gateway().catalog


def page(model_id: str) -> str:
    response = Client().get(f"/models/{model_id}/")
    assert response.status_code == 200
    return response.content.decode()


def section(model_id: str, section_id: str) -> str:
    """The HTML of one section of the model's page."""
    match = re.search(rf'<section id="{section_id}".*?</section>', page(model_id), re.S)
    assert match, f"no #{section_id} section"
    return match[0]


def snippet(model_id: str, operation: str, language: str) -> str:
    match = re.search(
        rf'<pre class="code" id="example-{operation}-{language}"[^>]*>(.*?)</pre>',
        page(model_id),
        re.S,
    )
    assert match, f"no {operation} example in {language}"
    return html.unescape(match[1])


@pytest.mark.parametrize(
    ("model_id", "kind"),
    [
        (LOCAL, "Text-to-Image and Image Editing Model"),
        (KEYLESS, "Text-to-Image and Image Editing Model"),
        (DOTTED, "Text-to-Image Model"),
        (EDIT_ONLY, "Image Editing Model"),
    ],
)
def test_the_header_names_the_model_its_maker_its_kind_and_a_copyable_id(catalog, model_id, kind):
    spec = catalog.models[model_id]
    header = re.search(r'<header class="model-head">.*?</header>', page(model_id), re.S)[0]

    assert f"<h1>{html.escape(spec.name)}</h1>" in header
    assert f"{html.escape(spec.organization)} · {kind}" in header
    assert html.escape(spec.description) in header
    # Selectable text without JavaScript; the button appears only when the script runs.
    assert f'<code id="model-id">{model_id}</code>' in header
    assert '<button type="button" class="copy" data-copy="model-id" hidden>' in header


@pytest.mark.parametrize("model_id", MODELS)
def test_capabilities_come_from_the_gateways_declarations(catalog, model_id):
    spec = catalog.models[model_id]
    capabilities = section(model_id, "capabilities")

    assert f"<dd>up to {spec.max_n}</dd>" in capabilities
    assert f"<dd>{spec.license}</dd>" in capabilities
    assert ('<span class="badge">generate</span>' in capabilities) is spec.can_generate
    assert ('<span class="badge">edit</span>' in capabilities) is spec.can_edit
    assert (f"<dd>up to {spec.max_input_images}</dd>" in capabilities) is spec.can_edit
    batch = [o for o in spec.offerings if o.batch_price is not None]
    assert ("no batch mode" in capabilities) is not batch


def test_capabilities_say_which_providers_take_a_mask_and_which_sizes_each_takes():
    gpt = section(KEYLESS, "capabilities")
    flux = section(DOTTED, "capabilities")
    retouch = section(EDIT_ONLY, "capabilities")

    assert '<span class="badge">mask</span> <span class="muted">through OpenAI</span>' in gpt
    assert "<strong>OpenAI</strong>: sizes 1024x1024, 1536x1024, 1024x1536" in gpt
    assert "<strong>fal.ai</strong>: any size up to the maximum" in flux
    assert "<strong>Replicate</strong>: aspect ratios 1:1, 16:9, 3:2, 2:3, 4:5" in flux
    assert "no mask: edits change the whole image" in retouch
    assert "mask" not in flux  # it does not edit at all
    assert "<dd>yes, through Built-in (local)</dd>" in section(LOCAL, "capabilities")


def answer(model_id: str, question: str) -> str:
    return {
        html.unescape(asked): html.unescape(answered)
        for asked, answered in re.findall(
            r"<summary>(.*?)</summary><p>(.*?)</p>", section(model_id, "faq"), re.S
        )
    }[question]


def test_the_maximum_resolution_of_a_model_with_fixed_sizes_is_the_largest_it_makes():
    capabilities = section(KEYLESS, "capabilities")

    # OpenAI makes 1024x1024, 1536x1024 and 1024x1536, never 1536x1536.
    assert (
        "<dt>Maximum resolution</dt><dd>1536x1024 or 1024x1536 (1.6 megapixels)</dd>"
        in capabilities
    )
    assert answer(KEYLESS, "What is the maximum resolution of GPT Image 1?") == (
        "1536x1024 or 1024x1536 pixels (1.6 megapixels), the largest of the sizes it makes: "
        "1024x1024, 1536x1024, 1024x1536."
    )
    assert "1536x1536" not in page(KEYLESS)


@pytest.mark.parametrize(("model_id", "limits"), [(DOTTED, "1440x1440"), (LOCAL, "2048x2048")])
def test_the_maximum_resolution_of_a_free_size_model_is_its_per_side_limits(model_id, limits):
    name = gateway.default_catalog().models[model_id].name

    assert f"<dt>Maximum resolution</dt><dd>up to {limits}</dd>" in section(
        model_id, "capabilities"
    )
    assert answer(model_id, f"What is the maximum resolution of {name}?").startswith(
        f"Up to {limits} pixels: the widest and tallest image a request may ask for"
    )


def test_capabilities_say_how_long_a_prompt_each_model_takes():
    assert "<dd>up to 32000 characters</dd>" in section(KEYLESS, "capabilities")
    assert "<dd>up to 4000 characters</dd>" in section(LOCAL, "capabilities")


def test_ready_to_integrate_starts_from_the_cheapest_offering_and_its_batch_price():
    local = section(LOCAL, "integrate")
    gemini = section("gemini-3.1-flash-lite-image", "integrate")

    assert "Starting from <strong>$0.040</strong> per image through Built-in (local)" in local
    assert "Batch from <strong>$0.020</strong> per image via Built-in (local)" in local
    assert "Starting from <strong>$0.0336</strong> per image through Google" in gemini
    assert "Batch from <strong>$0.0168</strong> per image via Google" in gemini
    assert "Batch from" not in section(DOTTED, "integrate")


@pytest.mark.parametrize("model_id", [LOCAL, EDIT_ONLY])
def test_a_callable_model_links_to_the_playground_with_it_preselected_and_to_the_api(model_id):
    integrate = section(model_id, "integrate")

    assert f'href="/playground/?model={model_id}"' in integrate
    assert 'href="#api"' in integrate
    assert "No provider key" not in integrate


@pytest.mark.parametrize("model_id", [KEYLESS, DOTTED])
def test_a_model_without_a_provider_key_says_so_and_offers_no_playground(model_id):
    body = page(model_id)
    integrate = section(model_id, "integrate")

    assert KEYLESS_SENTENCE in integrate
    assert "Starting from <strong>" in integrate  # what it would cost
    assert 'href="#api"' in integrate
    assert "/playground/?model=" not in body


def test_the_playground_opens_with_the_linked_model_and_its_operation_chosen():
    retouch = Client().get("/playground/?model=retouch").content.decode()
    lumen = Client().get("/playground/?model=lumen-xl").content.decode()

    assert '<option value="retouch" selected>' in retouch
    assert 'value="edit" checked' in retouch
    assert '<option value="lumen-xl" selected>' in lumen
    assert 'value="generate" checked' in lumen


@pytest.mark.parametrize("query", ["?model=no-such-model", "?model=gpt-image-1", "?model=", ""])
def test_the_playground_ignores_unknown_or_uncallable_models_in_the_link(query):
    response = Client().get(f"/playground/{query}")

    assert response.status_code == 200
    assert " selected>" not in response.content.decode().split('id="play-size"')[0]


@pytest.mark.parametrize("model_id", MODELS)
def test_pricing_lists_every_offering_with_its_ids_prices_and_notes(catalog, model_id):
    spec = catalog.models[model_id]
    pricing = section(model_id, "pricing")
    count = len(spec.offerings)

    assert f"Available from {count} provider{'s' if count > 1 else ''}." in pricing
    for offering in spec.offerings:
        assert f"<code>{offering.provider_model}</code>" in pricing
        assert html.escape(offering.pricing_note) in pricing
        assert html.escape(catalog.provider_name(offering.provider)) in pricing


def test_pricing_shows_quality_prices_edit_ids_and_what_each_offering_takes():
    gpt = section(KEYLESS, "pricing")
    gemini = section("gemini-3.1-flash-lite-image", "pricing")

    assert "<li>low: $0.011</li><li>medium: $0.042</li><li>high: $0.167</li>" in gpt
    assert "<dd>text and up to 16 images, with a mask</dd>" in gpt
    assert "<code>fal-ai/gemini-3.1-flash-lite-image/edit</code>" in gemini
    assert '<dd class="price">$0.0168</dd>' in gemini
    assert "<dd>text</dd>" in section(DOTTED, "pricing")
    assert "<dd>text and an image</dd>" in section(EDIT_ONLY, "pricing")


@pytest.mark.parametrize("model_id", MODELS)
def test_the_api_section_gives_the_base_url_and_examples_for_what_the_model_does(
    catalog, model_id
):
    spec = catalog.models[model_id]
    api = section(model_id, "api")

    assert '<code id="api-base">http://testserver/openai/v1</code>' in api
    assert f"<code>{model_id}</code>" in api
    for language in ("curl", "javascript", "python"):
        assert (f'id="example-generate-{language}"' in api) is spec.can_generate
        assert (f'id="example-edit-{language}"' in api) is spec.can_edit
    assert "&quot;data&quot;: [" in api or '"data": [' in api  # the response shape


def test_the_examples_use_the_openai_packages_with_this_model():
    python = snippet(DOTTED, "generate", "python")
    javascript = snippet(KEYLESS, "edit", "javascript")

    assert 'client = OpenAI(base_url="http://testserver/openai/v1"' in python
    assert 'model="flux-1.1-pro",' in python
    assert "client.images.generate(" in python
    assert 'import OpenAI from "openai";' in javascript
    assert "client.images.edit({" in javascript
    assert 'model: "gpt-image-1",' in javascript


def test_the_generation_example_works_against_the_api():
    curl = snippet(LOCAL, "generate", "curl")
    url = re.search(r"curl -X POST (\S+)", curl)[1]
    body = json.loads(re.search(r"-d '(.*)'", curl, re.S)[1])
    key = api_key_create(name="example")[1]

    response = Client().post(
        url.removeprefix("http://testserver"),
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 200, response.content
    assert body["model"] == LOCAL
    assert len(response.json()["data"]) == 1
    assert response["X-Arena-Provider"] == "local"


def test_the_edit_example_works_against_the_api():
    curl = snippet(EDIT_ONLY, "edit", "curl")
    url = re.search(r"curl -X POST (\S+)", curl)[1]
    fields = {
        name: json.loads(value) for name, value in re.findall(r"-F (\w+)=(\"[^\"]*\")", curl)
    }
    image = io.BytesIO(png_bytes())
    image.name = "photo.png"
    key = api_key_create(name="example")[1]

    response = Client().post(
        url.removeprefix("http://testserver"),
        {**fields, "image": image},
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 200, response.content
    assert fields["model"] == EDIT_ONLY
    assert len(response.json()["data"]) == 1


@pytest.mark.parametrize("model_id", MODELS)
def test_normalization_shows_each_providers_table_from_the_gateway(catalog, model_id):
    spec = catalog.models[model_id]
    normalization = section(model_id, "normalization")

    for behaviour in ("passthrough", "renamed", "converted", "emulated"):
        assert f'<span class="badge">{behaviour}</span>' in normalization
    for offering in spec.offerings:
        table = gateway.normalization_table(offering)
        assert f"<h3>{html.escape(catalog.provider_name(offering.provider))}</h3>" in normalization
        size = table["size"]
        assert f"<td><code>size</code></td><td>{size.mode}</td>" in normalization
    assert ("<td><code>mask</code></td>" in normalization) is spec.can_edit


def test_normalization_says_where_unknown_parameters_go_as_the_providers_do():
    keyless, dotted = section(KEYLESS, "normalization"), section(DOTTED, "normalization")

    assert "Provider options pass straight through to OpenAI, merged into the request body: " in (
        keyless
    )
    assert "the options under `openai`, and at the top level background" in keyless
    assert "Provider options pass straight through to Replicate, merged into input: " in dotted
    assert "is sent to no provider, with a warning" in dotted
    assert "Built-in (local) ignores parameters it does not know." in section(
        LOCAL, "normalization"
    )


@pytest.mark.parametrize("model_id", MODELS)
def test_the_faq_is_details_and_matching_faqpage_json_ld(model_id):
    faq = section(model_id, "faq")
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', faq, re.S)[1]
    )
    shown = [
        (html.unescape(question), html.unescape(answer))
        for question, answer in re.findall(
            r"<details><summary>(.*?)</summary><p>(.*?)</p></details>", faq, re.S
        )
    ]

    assert data["@type"] == "FAQPage"
    assert [
        (entry["name"], entry["acceptedAnswer"]["text"]) for entry in data["mainEntity"]
    ] == shown
    questions = " ".join(question for question, _ in shown)
    for topic in ("cost", "do?", "call", "providers", "maximum resolution"):
        assert topic in questions


def test_the_faq_answers_from_the_data():
    answers = {
        html.unescape(question): html.unescape(answer)
        for question, answer in re.findall(
            r"<summary>(.*?)</summary><p>(.*?)</p>", section(KEYLESS, "faq"), re.S
        )
    }

    assert answers["How much does GPT Image 1 cost?"].startswith(
        "GPT Image 1 costs from $0.042 per image through OpenAI."
    )
    assert "No provider key is set on this server" in answers["How do I call GPT Image 1?"]
    assert answers["Which providers offer GPT Image 1?"] == (
        "GPT Image 1 is available from 1 provider: OpenAI."
    )
    assert "through OpenAI" in answers["What can GPT Image 1 do?"]  # the mask


def test_json_ld_cannot_close_its_script_element():
    tricky = {"text": "</script><script>alert(1)</script> & <!--"}
    escaped = json_ld(tricky)

    assert not {"<", ">", "&"} & set(escaped)
    assert json.loads(escaped) == tricky


def test_every_catalog_model_page_has_every_section(catalog):
    for spec in catalog:
        body = page(spec.id)
        for section_id in SECTIONS:
            assert f'<section id="{section_id}"' in body, (spec.id, section_id)


def test_a_model_outside_the_catalog_still_gets_its_sections():
    AIModelFactory(slug="curated-only", name="Curated Only")

    body = page("curated-only")

    for section_id in SECTIONS:
        assert f'<section id="{section_id}"' in body


def test_the_sections_cost_the_same_queries_however_many_models_there_are():
    def queries() -> int:
        client = Client()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/models/{DOTTED}/").status_code == 200
        return len(captured)

    queries()  # the first view of a page fills the caches it shares with other pages
    before = queries()
    AIModelFactory.create_batch(5)

    assert queries() == before


def test_a_keyless_model_says_why_it_does_not_compete(catalog):
    header = Client().get(f"/models/{KEYLESS}/").content.decode()
    local = Client().get(f"/models/{LOCAL}/").content.decode()

    assert "no provider key for it is set on this server" in header
    assert "not competing at the moment" not in header
    assert "does not compete here" not in local
