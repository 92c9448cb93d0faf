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

from .errors import RequestTooLarge


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
            return json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError, LookupError) as exc:
            raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


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
