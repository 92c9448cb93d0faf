"""Body parsers with a size limit, and a negotiation that always answers JSON."""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import QueryDict
from rest_framework import exceptions, parsers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer

from sessions_app.wire.problems import RequestTooLarge


def read_limited(stream) -> bytes:
    """The whole body, refusing one above ``API_MAX_BODY_BYTES`` even without Content-Length."""
    limit = settings.API_MAX_BODY_BYTES
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise RequestTooLarge(limit)
    return data


class JSONParser(parsers.JSONParser):
    """Strict JSON (no NaN/Infinity); any parse failure, however deep, is a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = read_limited(stream)
        try:
            text = codecs.decode(raw, encoding)
            data = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError, LookupError) as exc:
            raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from None
        if _has_lone_surrogate(data):
            # "\ud800" parses, but no database or UTF-8 answer can hold it.
            raise exceptions.ParseError(
                "The body is not valid JSON: a \\u escape is half of a surrogate pair."
            )
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _has_lone_surrogate(data) -> bool:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = read_limited(stream)
        try:
            return QueryDict(raw, encoding=encoding)
        except (ValueError, SuspiciousOperation) as exc:  # e.g. too many fields
            raise exceptions.ParseError(f"The form body cannot be read: {exc}") from None


class AlwaysJSON(DefaultContentNegotiation):
    """The API speaks JSON only; an ``Accept`` header never turns an answer into a 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = next((r for r in renderers if isinstance(r, JSONRenderer)), renderers[0])
        return renderer, renderer.media_type
