"""First permission layer: the token's scope, from an explicit map of method to scope.

The second layer (is the object in the caller's organisation) lives in the views'
querysets, so another organisation's object is a 404 exactly like a missing one.
"""

from __future__ import annotations

from oauth2_provider.contrib.rest_framework import TokenHasResourceScope
from rest_framework.exceptions import PermissionDenied

READ_SCOPE = "sessions:read"
WRITE_SCOPE = "sessions:write"
SCOPE_FOR_METHOD = {
    "GET": READ_SCOPE,
    "HEAD": READ_SCOPE,
    "OPTIONS": READ_SCOPE,
    "POST": WRITE_SCOPE,
    "PUT": WRITE_SCOPE,
    "PATCH": WRITE_SCOPE,
    "DELETE": WRITE_SCOPE,
}


class InsufficientScope(PermissionDenied):
    def __init__(self, scope: str) -> None:
        super().__init__(f"This token does not have the {scope} scope that this request needs.")
        self.auth_header = f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'


class HasScopeForMethod(TokenHasResourceScope):
    """``sessions:read`` for reads, ``sessions:write`` for every write (status included);
    a view with ``scope_family = "registrants"`` needs ``registrants:read``/``:write``, and
    one with ``fixed_scope`` needs that scope for every method.

    Subclasses DOT's ``TokenHasResourceScope`` so the OpenAPI generator lists the scopes.
    """

    def get_scopes(self, request, view):
        fixed = getattr(view, "fixed_scope", None)
        if fixed:
            return [fixed]  # e.g. webhooks:write for reads and writes alike
        scope = SCOPE_FOR_METHOD.get(request.method.upper(), WRITE_SCOPE)
        family = getattr(view, "scope_family", "sessions")
        return [scope.replace("sessions:", f"{family}:", 1)]

    def has_permission(self, request, view):
        token = request.auth
        if token is None or not hasattr(token, "scope"):
            return False  # DRF turns this into a 401 with the Bearer challenge
        (scope,) = self.get_scopes(request, view)
        if not token.allow_scopes([scope]):
            raise InsufficientScope(scope)
        return True
