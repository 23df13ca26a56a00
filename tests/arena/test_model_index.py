"""The models index at /models/: every catalog model with its type, organisation, rank and
rating per arena, cheapest price and fastest median; filters and sorts by query string, the
list alone for htmx, a sentence and a 400 for a bad value, and a fixed number of queries."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

import gateway
from arena.catalog.models import AIModel, Offering, Provider, ProviderCall
from arena.catalog.services import catalog_sync
from arena.ratings.models import Rating
from tests.arena.helpers import measured_models
from tests.factories import AIModelFactory

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    """The model names of the index's cards, in order."""
    return re.findall(r'<h2><a href="/models/[^"]+/">([^<]+)</a>', response.content.decode())


@pytest.fixture
def index():
    """Fast (rated 1100, $0.01 via Cheap or $0.05 via Pricey, 1,100 ms median), Slow (950,
    $0.02, 25,000 ms) and an editing model with no offering, no rating and no calls."""
    fast, slow = measured_models()
    editor = AIModelFactory(
        slug="editor", name="Editor Model", organization="Edit Co", can_generate=False,
        can_edit=True,
    )  # fmt: skip
    return fast, slow, editor


def test_each_model_shows_its_type_organisation_rating_price_and_speed(index):
    response = Client().get("/models/")
    page = response.content.decode()

    assert response.status_code == 200
    assert names(response) == ["Fast Model", "Slow Model", "Editor Model"]  # by rating
    assert '<span class="kind">Image Editing Model</span> · Edit Co' in page
    assert "Text-to-Image Model" in page
    assert "<strong>#1</strong> · 1100" in page
    assert "From <strong>$0.010</strong> per image via Cheap Cloud" in page
    assert "Fastest generation via Cheap Cloud: <strong>1,100 ms</strong> median" in page
    assert "25,000 ms" in page
    assert "no speed data yet" in page  # the editor has no calls


def test_sorting_by_price_puts_the_cheapest_first_and_the_unpriced_last(index):
    assert names(Client().get("/models/?sort=price")) == [
        "Fast Model",
        "Slow Model",
        "Editor Model",
    ]
    Offering.objects.filter(model__slug="fast").update(price_per_image=Decimal("0.5"))

    assert names(Client().get("/models/?sort=price")) == [
        "Slow Model",
        "Fast Model",
        "Editor Model",
    ]


def test_sorting_by_speed_puts_the_fastest_first_and_those_without_data_last(index):
    fast, _, _ = index
    ProviderCall.objects.filter(model=fast).update(total_ms=99_000)

    assert names(Client().get("/models/?sort=speed")) == [
        "Slow Model",
        "Fast Model",
        "Editor Model",
    ]


def test_generations_and_edits_have_their_own_fastest_median_and_speed_order(index):
    fast, _, editor = index
    fast.can_edit = True
    fast.save()
    cheap = Provider.objects.get(slug="cheap")
    now = timezone.now()
    ProviderCall.objects.bulk_create(
        ProviderCall(
            model=model, provider=cheap, provider_model="x", ok=True, total_ms=ms,
            started_at=now, operation="edit",
        )
        for model, ms in [(fast, 40_000.0)] * 5 + [(editor, 5_000.0)] * 5
    )  # fmt: skip
    for model, rating in ((fast, 1100.0), (editor, 1000.0)):
        Rating.objects.create(
            arena="edit", model=model, rating=rating, ci_low=rating - 20, ci_high=rating + 20,
            rank=1, votes=100, preliminary=False, computed_at=now,
        )  # fmt: skip

    page = Client().get("/models/").content.decode()

    assert "Fastest generation via Cheap Cloud: <strong>1,100 ms</strong> median" in page
    assert "Fastest edit via Cheap Cloud: <strong>40,000 ms</strong> median" in page
    assert "Fastest edit via Cheap Cloud: <strong>5,000 ms</strong> median" in page
    assert names(Client().get("/models/?arena=t2i&sort=speed")) == ["Fast Model", "Slow Model"]
    assert names(Client().get("/models/?arena=edit&sort=speed")) == [
        "Editor Model",
        "Fast Model",
    ]


def test_sorting_by_rating_follows_the_chosen_arena(index):
    _, _, editor = index
    Rating.objects.create(
        arena="edit", model=editor, rating=1300, ci_low=1280, ci_high=1320, rank=1, votes=50,
        preliminary=False, computed_at=timezone.now(),
    )  # fmt: skip

    assert names(Client().get("/models/")) == ["Editor Model", "Fast Model", "Slow Model"]
    assert names(Client().get("/models/?arena=t2i")) == ["Fast Model", "Slow Model"]
    assert names(Client().get("/models/?arena=edit&sort=rating")) == ["Editor Model"]


def test_the_provider_filter_keeps_the_models_it_sells(index):
    assert names(Client().get("/models/?provider=pricey")) == ["Fast Model"]
    assert names(Client().get("/models/?provider=cheap")) == ["Fast Model", "Slow Model"]


def test_the_capability_filter_keeps_the_models_that_can(index):
    assert names(Client().get("/models/?capability=edit")) == ["Editor Model"]
    assert names(Client().get("/models/?capability=generate")) == ["Fast Model", "Slow Model"]


def test_the_price_range_keeps_the_models_whose_cheapest_price_is_inside(index):
    assert names(Client().get("/models/?min_price=0.015")) == ["Slow Model"]
    assert names(Client().get("/models/?max_price=0.015")) == ["Fast Model"]
    assert names(Client().get("/models/?min_price=0.01&max_price=0.02&sort=price")) == [
        "Fast Model",
        "Slow Model",
    ]
    assert names(Client().get("/models/?min_price=0.03")) == []


def test_filters_combine_and_sort_links_keep_them(index):
    response = Client().get("/models/?provider=cheap&capability=generate&sort=speed")

    assert names(response) == ["Fast Model", "Slow Model"]
    assert 'href="?provider=cheap&amp;capability=generate&amp;sort=price"' in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ("arena=chess", "There is no arena called “chess”"),
        ("provider=nobody", "No provider called “nobody” sells any model here."),
        ("capability=fly", "“fly” is not a capability"),
        ("sort=colour", "The list cannot be sorted by “colour”"),
        ("min_price=cheap", "The lowest price must be a number of dollars per image"),
        ("max_price=-1", "The highest price cannot be below $0."),
        ("max_price=NaN", "The highest price must be a number of dollars per image"),
        ("min_price=0.5&max_price=0.1", "The lowest price is above the highest price."),
    ],
)
def test_a_bad_filter_value_is_a_400_that_says_what_is_wrong(index, query, sentence):
    response = Client().get(f"/models/?{query}")

    assert response.status_code == 400
    assert sentence in response.content.decode()
    assert names(response) == []


def test_htmx_gets_the_list_alone_and_the_response_varies_on_it(index):
    response = Client().get("/models/?sort=price", headers={"HX-Request": "true"})
    page = response.content.decode()

    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    assert page.lstrip().startswith('<div id="model-index"')
    assert "<html" not in page
    assert names(response) == ["Fast Model", "Slow Model", "Editor Model"]


def test_filters_and_sorts_are_links_and_forms_for_htmx_and_without_javascript(index):
    page = Client().get("/models/").content.decode()

    assert '<form class="index-filters" method="get" action="/models/"' in page
    assert 'hx-get="/models/"' in page
    assert 'href="?sort=price" hx-get="?sort=price"' in page
    assert 'hx-push-url="true"' in page


def test_the_forms_empty_fields_stay_out_of_the_address(index):
    submitted = "/models/?arena=&provider=cheap&capability=&min_price=&max_price=&sort="

    plain = Client().get(submitted)
    swapped = Client().get(submitted, headers={"HX-Request": "true"})

    assert plain.status_code == 302
    assert plain["Location"] == "/models/?provider=cheap"
    assert swapped.status_code == 200
    assert swapped["HX-Push-Url"] == "/models/?provider=cheap"
    assert names(swapped) == ["Fast Model", "Slow Model"]


def test_a_keyless_real_model_is_listed_with_its_price_and_no_invented_speed():
    catalog_sync()
    response = Client().get("/models/")
    page = response.content.decode()
    card = page[page.index('href="/models/flux-1.1-pro/"') :].split('<li class="model-card')[0]

    assert response.status_code == 200
    assert "FLUX1.1 [pro]" in card  # an id with dots, linked to its page
    assert "Black Forest Labs" in card
    assert "From <strong>$0.040</strong> per image" in card
    assert "no speed data yet" in card
    assert "ms</strong> median" not in card
    assert Client().get("/models/flux-1.1-pro/").status_code == 200
    assert len(names(response)) == len([spec.id for spec in gateway.default_catalog()])


def _models_with_calls(count: int) -> None:
    provider, _ = Provider.objects.get_or_create(slug="cloud", name="Cloud")
    now = timezone.now()
    for i in range(AIModel.objects.count(), count):
        model = AIModelFactory(slug=f"model-{i}", name=f"Model {i}", can_edit=i % 2 == 0)
        Offering.objects.create(
            model=model, provider=provider, provider_model="m", price_per_image=Decimal("0.02")
        )
        ProviderCall.objects.create(
            model=model, provider=provider, provider_model="m", ok=True, total_ms=1000 + i,
            started_at=now,
        )  # fmt: skip
        Rating.objects.create(
            arena="t2i", model=model, rating=1000 + i, ci_low=990, ci_high=1010, rank=1,
            votes=30, preliminary=False, computed_at=now,
        )  # fmt: skip


def test_the_query_count_does_not_grow_with_the_models_or_their_calls(
    django_assert_num_queries,
):
    _models_with_calls(3)
    cache.clear()
    with CaptureQueriesContext(connection) as few:
        assert len(names(Client().get("/models/?sort=speed"))) == 3
    _models_with_calls(20)
    cache.clear()
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(names(Client().get("/models/?sort=speed"))) == 20


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(["arena", "provider", "capability", "min_price", "max_price", "sort"]),
    value=st.text(max_size=30),
)
def test_any_filter_value_is_an_answer_never_an_error(name, value):
    response = Client().get("/models/", {name: value}, follow=True)

    assert response.status_code in (200, 400)
    assert len(response.redirect_chain) <= 1
