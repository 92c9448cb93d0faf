"""A bare ASGI application answering the bytes of a file (``FLOOR_PAGE``) with the headers
of a page, and 304 to a request that has its ETag: the floor of a page on this stack."""

import hashlib
import os
from pathlib import Path

BODY = Path(os.environ["FLOOR_PAGE"]).read_bytes()
ETAG = b'"' + hashlib.sha256(BODY).hexdigest()[:32].encode() + b'"'
HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"etag", ETAG),
    (b"cache-control", b"max-age=5"),
]


async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    cached = any(name == b"if-none-match" and value == ETAG for name, value in scope["headers"])
    if cached:
        await send({"type": "http.response.start", "status": 304, "headers": HEADERS[1:]})
        await send({"type": "http.response.body", "body": b""})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*HEADERS, (b"content-length", str(len(BODY)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": BODY})
