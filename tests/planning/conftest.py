from tests.admin.conftest import acme, globex  # noqa: F401  (the two organisations' worlds)
