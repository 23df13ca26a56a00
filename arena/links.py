"""`{% url %}` as Django has it, with the addresses of literal arguments kept per process.

A page's navigation reverses the same seven addresses on every request, and Django's `reverse`
walks the resolver each time: a tenth of a battle page's template time (py-spy, `python -m
tests.bench load`). Where every argument of the tag is a literal, the answer depends only on
the names, the script prefix, the URLconf and the current namespace, and is kept under those;
a tag with any variable argument reverses as before. Installed as a template builtin
(settings.TEMPLATES), so templates keep writing `{% url %}`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template import Library, Node
from django.template.base import FilterExpression, Parser, Token
from django.template.context import Context
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = Library()

_kept: dict[tuple[Any, ...], str] = {}


@register.tag
def url(parser: Parser, token: Token) -> Node:
    node = django_url(parser, token)
    expressions = [node.view_name, *node.args, *node.kwargs.values()]
    if all(_constant(expression) for expression in expressions):
        node.__class__ = KeptURLNode
    return node


def _constant(expression: FilterExpression) -> bool:
    return not expression.is_var and not expression.filters


class KeptURLNode(URLNode):
    """A `{% url %}` whose arguments are all literals."""

    def render(self, context: Context) -> str:
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        view_name = self.view_name.var
        args = tuple(arg.var for arg in self.args)
        kwargs = tuple((name, value.var) for name, value in self.kwargs.items())
        key = (
            get_script_prefix(),
            get_urlconf() or settings.ROOT_URLCONF,
            current_app,
            view_name,
            args,
            kwargs,
        )
        address = _kept.get(key)
        if address is None:
            try:
                address = reverse(
                    view_name, args=args, kwargs=dict(kwargs), current_app=current_app
                )
            except NoReverseMatch:
                if self.asvar is None:
                    raise
                address = ""  # as Django's {% url ... as var %}, and not kept
            else:
                _kept[key] = address
        if self.asvar:
            context[self.asvar] = address
            return ""
        return conditional_escape(address) if context.autoescape else address
