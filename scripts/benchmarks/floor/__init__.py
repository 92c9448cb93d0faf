"""The floors `make bench` compares the product with: projects outside it that do the least
the same request can do on this stack (a bare Django project for the API's writes, a bare
ASGI application for the pages). Nothing here is served to users."""
