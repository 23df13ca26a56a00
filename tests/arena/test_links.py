"""{% url %} keeps the addresses of literal arguments per process (arena.links), and reverses
every other one as Django does."""

from unittest import mock

import django.urls
import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix

from arena import links


@pytest.fixture(autouse=True)
def fresh():
    links._kept.clear()
    yield
    links._kept.clear()
    set_script_prefix("/")


def counting() -> mock._patch:
    """Counts the resolver's walks, which Django's tag and the kept one both end in."""
    resolver = django.urls.resolvers.URLResolver
    return mock.patch.object(
        resolver, "_reverse_with_prefix", autospec=True, side_effect=resolver._reverse_with_prefix
    )


def render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


def test_a_literal_address_is_reversed_once_and_kept():
    template = Template("{% url 'battles:new' 't2i' %}|{% url 'pages:model_list' %}")
    with counting() as reversing:
        first = template.render(Context())
        second = template.render(Context())

    assert (
        first == second == f"{reverse('battles:new', args=['t2i'])}|{reverse('pages:model_list')}"
    )
    assert reversing.call_count == 2


def test_an_address_with_a_variable_is_reversed_each_time():
    template = Template("{% url 'battles:detail' token %}")
    with counting() as reversing:
        one = template.render(Context({"token": "one"}))
        two = template.render(Context({"token": "two"}))

    assert (one, two) == (
        reverse("battles:detail", args=["one"]),
        reverse("battles:detail", args=["two"]),
    )
    assert reversing.call_count == 2


def test_as_a_variable_and_under_another_script_prefix():
    assert render("{% url 'battles:new' 'edit' as next %}<{{ next }}>") == "</battle/edit/>"

    set_script_prefix("/arena/")

    assert render("{% url 'battles:new' 'edit' %}") == "/arena/battle/edit/"
    assert render("{% url 'battles:new' 'edit' as next %}<{{ next }}>") == "</arena/battle/edit/>"


def test_a_literal_that_names_no_address_fails_as_django_s_does():
    with pytest.raises(django.urls.NoReverseMatch):
        render("{% url 'battles:nowhere' %}")
    assert render("{% url 'battles:nowhere' as missing %}[{{ missing }}]") == "[]"
