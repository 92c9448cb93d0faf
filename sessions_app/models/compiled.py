"""Fixed-shape ORM reads whose SQL is compiled once per connection, not on every call.

Django compiles a queryset into SQL each time it runs. For the headline PATCH's locked read
(a session with its event, organisation, track and location: 52 columns) compiling was the
largest single cost of the request, more than the database's own work. ``CompiledRead``
builds the queryset with the ORM as anywhere else, lets the ORM compile it once per
database connection, and on each call binds new ids into that same SQL and builds the
objects exactly as the queryset would (``from_db``, ``select_related`` objects, the
fields' converters). The SQL is the ORM's, so the rules, locks and statement counts do not
change; only the compiling is not repeated.

For reads whose shape never changes between calls (the same filters, related objects and
locks) and whose only varying values are ids or exact texts: each argument of ``build`` is
an integer, or a string for those named in ``text`` (an access token's checksum), that the
queryset uses once, unchanged, as a bound parameter.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators
from django.db.transaction import TransactionManagementError

# Stand-ins bound while compiling, found again among the compiled parameters: ids no row has
# (within bigint, so the ORM keeps the comparison rather than folding it away), and for
# text a string no column can hold (PostgreSQL text refuses NUL).
_PLACEHOLDER = -(2**62)
_TEXT_PLACEHOLDER = "\x00placeholder {}"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: dict[str, int]  # argument -> index in params
    compiler: Any
    converters: dict
    model_start: int
    model_end: int
    init_list: list[str]
    populators: list
    annotations: dict[str, int]
    locks: bool


class CompiledRead:
    """``build(**ids) -> QuerySet``, compiled once per connection; ``get(**ids)`` runs it.

    ``text`` names the arguments that are strings rather than ids.
    """

    def __init__(self, build: Callable[..., QuerySet], *, text: tuple[str, ...] = ()):
        self._build = build
        self._arguments = tuple(inspect.signature(build).parameters)
        self._text = frozenset(text)
        if not self._text <= set(self._arguments):
            raise TypeError(f"text names arguments of build: {', '.join(self._arguments)}.")
        # Per thread, as Django's connections are: the compiler refers to its connection.
        self._local = threading.local()

    def all(self, *, using: str = DEFAULT_DB_ALIAS, **ids: int) -> list[Model]:
        """The objects the queryset built with these ids would give."""
        if set(ids) != set(self._arguments):
            raise TypeError(f"Expected the ids {', '.join(self._arguments)}.")
        connection = connections[using]
        compiled = self._for(using)
        for name, value in ids.items():
            if not isinstance(value, str if name in self._text else int):
                raise TypeError(
                    f"{name!r} must be {'a string' if name in self._text else 'an id'}."
                )
        if any(not -(2**63) <= ids[name] < 2**63 for name in ids if name not in self._text):
            return []  # no row has an id beyond bigint, as the ORM would conclude too
        if compiled.locks and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = list(compiled.params)
        for name, index in compiled.slots.items():
            params[index] = ids[name]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        found = []
        model = compiled.compiler.klass_info["model"]
        for row in rows:
            obj = model.from_db(
                using, compiled.init_list, row[compiled.model_start : compiled.model_end]
            )
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, index in compiled.annotations.items():
                setattr(obj, name, row[index])
            found.append(obj)
        return found

    def get(self, *, using: str = DEFAULT_DB_ALIAS, **ids: int) -> Model:
        """The one object; the model's ``DoesNotExist`` when there is none."""
        found = self.all(using=using, **ids)
        if len(found) == 1:
            return found[0]
        model = self._for(using).compiler.klass_info["model"]
        if not found:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        raise model.MultipleObjectsReturned(f"More than one {model._meta.object_name} matched.")

    def _for(self, using: str) -> _Compiled:
        compiled = getattr(self._local, "by_alias", {}).get(using)
        if compiled is None:
            compiled = self._compile(using)
            self._local.__dict__.setdefault("by_alias", {})[using] = compiled
        return compiled

    def _compile(self, using: str) -> _Compiled:
        placeholders = {
            name: _TEXT_PLACEHOLDER.format(n) if name in self._text else _PLACEHOLDER - n
            for n, name in enumerate(self._arguments)
        }
        queryset = self._build(**placeholders)
        if (
            queryset._iterable_class is not ModelIterable
            or queryset._prefetch_related_lookups
            or queryset._known_related_objects
        ):
            raise TypeError("CompiledRead runs plain model querysets: no values(), no prefetch.")
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = {}
        for name, placeholder in placeholders.items():
            if list(params).count(placeholder) != 1:
                raise TypeError(f"{name!r} must be used once as a value of the query.")
            slots[name] = list(params).index(placeholder)
        klass_info, select = compiler.klass_info, compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        compiled = _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            compiler=compiler,
            converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
            model_start=start,
            model_end=end,
            init_list=[f[0].target.attname for f in select[start:end]],
            populators=get_related_populators(klass_info, select, using),
            annotations=dict(compiler.annotation_col_map or {}),
            locks=bool(queryset.query.select_for_update)
            and connections[using].features.has_select_for_update,
        )
        return compiled
