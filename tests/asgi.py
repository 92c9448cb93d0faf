"""An ASGI application called as a server calls it, in the tests."""

from __future__ import annotations


def http_scope(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict:
    """The scope of a plain HTTP/1.1 GET of ``path`` from a client on loopback."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
