"""Which provider the model pages name, and how they show its price: the cheapest offering,
ties going to the provider first by name, the same on the models index, the model page and its
FAQ; one price format everywhere; and one order of providers (by name, case aside) in the
rankings table, the pricing cards and the index's provider filter."""

import html
import re
from decimal import Decimal

import pytest
from django.test import Client

from arena.catalog.models import AIModel, Offering, Provider, cheapest_offering
from arena.catalog.services import catalog_sync
from tests.factories import AIModelFactory

pytestmark = pytest.mark.django_db


def get(url: str) -> str:
    response = Client().get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def words(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).strip()


def index_card(slug: str) -> str:
    page = get("/models/")
    return words(page[page.index(f'href="/models/{slug}/"') :].split('<li class="model-card')[0])


def faq_answer(slug: str, question: str) -> str:
    return dict(re.findall(r"<summary>(.*?)</summary><p>(.*?)</p>", get(f"/models/{slug}/")))[
        question
    ]


def sell(model, provider: Provider, price: str, batch: str | None = None) -> None:
    Offering.objects.create(
        model=model, provider=provider, provider_model=provider.slug,
        price_per_image=Decimal(price),
        batch_price_per_image=Decimal(batch) if batch is not None else None,
    )  # fmt: skip


@pytest.fixture
def tied():
    """A model two providers sell at the same price, the later by name stored first."""
    model = AIModelFactory(slug="tied", name="Tied Model")
    replicate = Provider.objects.create(slug="replicate", name="Replicate")
    fal = Provider.objects.create(slug="fal", name="fal.ai")
    sell(model, replicate, "0.03", batch="0.015")
    sell(model, fal, "0.03", batch="0.015")
    return model


def test_a_tie_in_price_names_the_same_provider_on_the_index_the_page_and_the_faq(tied):
    integrate = words(
        re.search(r'<section id="integrate".*?</section>', get("/models/tied/"), re.S)[0]
    )

    assert "From $0.030 per image via fal.ai" in index_card("tied")
    assert "Starting from $0.030 per image through fal.ai" in integrate
    assert "Batch from $0.015 per image via fal.ai" in integrate
    assert faq_answer("tied", "How much does Tied Model cost?").startswith(
        "Tied Model costs from $0.030 per image through fal.ai. "
        "In batch mode it costs from $0.015 per image through fal.ai."
    )


def test_the_cheapest_offering_does_not_depend_on_the_order_of_the_rows(tied):
    offerings = list(tied.offerings.select_related("provider"))

    for rows in (offerings, offerings[::-1]):
        assert cheapest_offering(rows).provider.slug == "fal"
        assert cheapest_offering(rows, batch=True).provider.slug == "fal"
    assert cheapest_offering([]) is None


def test_the_catalogs_tied_prices_name_one_provider_everywhere():
    catalog_sync()

    for slug, provider in (
        ("seedream-4", "fal.ai"),
        ("flux-kontext-pro", "fal.ai"),
        ("gemini-3.1-flash-lite-image", "Google Gemini API"),
    ):
        name = AIModel.objects.get(slug=slug).name

        assert f"per image via {provider}" in index_card(slug)
        assert f"per image through {provider}." in faq_answer(slug, f"How much does {name} cost?")


def test_prices_have_one_format_on_the_index_the_page_and_the_faq():
    catalog_sync()

    for slug, price in (("imagen-4", "$0.040"), ("gemini-3.1-flash-lite-image", "$0.0336")):
        name = AIModel.objects.get(slug=slug).name
        pricing = words(get(f"/models/{slug}/").split('<section id="pricing"')[1])

        assert f"From {price} per image" in index_card(slug)
        assert f"Starting from {price} per image" in words(get(f"/models/{slug}/"))
        assert f"Per image {price}" in pricing
        assert faq_answer(slug, f"How much does {name} cost?").startswith(
            f"{name} costs from {price} per image"
        )


def test_providers_stand_in_one_order_by_name_wherever_they_are_listed():
    model = AIModelFactory(slug="listed", name="Listed Model")
    # Slugs, prices and storage order all disagree with the order by name.
    for slug, name, price in (
        ("a-replicate", "Replicate", "0.01"),
        ("b-openai", "OpenAI", "0.02"),
        ("c-fal", "fal.ai", "0.03"),
    ):
        sell(model, Provider.objects.create(slug=slug, name=name), price)
    page = get("/models/listed/")
    rankings = re.search(r'<table class="rankings">.*?</table>', page, re.S)[0]
    cards = re.search(r'<section id="pricing".*?</section>', page, re.S)[0]
    dropdown = re.search(r'<select name="provider".*?</select>', get("/models/"), re.S)[0]
    in_order = ["fal.ai", "OpenAI", "Replicate"]

    assert re.findall(r"<td>([^<]+)</td>", rankings) == in_order
    assert re.findall(r"<h3>([^<]+)</h3>", cards) == in_order
    assert re.findall(r'<option value="[^"]+">([^<]+)</option>', dropdown) == in_order
    assert "available from 3 providers: fal.ai, OpenAI and Replicate." in faq_answer(
        "listed", "Which providers offer Listed Model?"
    )
