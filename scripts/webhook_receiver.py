"""A webhook receiver to try deliveries with: prints each one and checks its signature.

    python scripts/webhook_receiver.py --secret whsec_... [--port 9000] [--fail 2]

Subscribe http://127.0.0.1:9000/ (allowed in development: plain http to loopback), then
change a session. ``--fail N`` answers 500 to the first N requests, to watch the retries.
Only the standard library: it runs with any Python 3.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
from http.server import BaseHTTPRequestHandler, HTTPServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secret", required=True, help="The subscription's signing secret.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--fail", type=int, default=0, help="Answer 500 to the first N requests.")
    options = parser.parse_args()
    seen = {"count": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            expected = (
                "sha256=" + hmac.new(options.secret.encode(), body, hashlib.sha256).hexdigest()
            )
            valid = hmac.compare_digest(expected, self.headers.get("X-Webhook-Signature", ""))
            seen["count"] += 1
            status = 500 if seen["count"] <= options.fail else (200 if valid else 401)
            event = json.loads(body) if valid else {}
            print(
                f"#{seen['count']} id={self.headers.get('X-Webhook-Id')} "
                f"type={self.headers.get('X-Webhook-Event')} "
                f"attempt={self.headers.get('X-Webhook-Attempt')} "
                f"signature={'valid' if valid else 'INVALID'} -> {status}",
                flush=True,
            )
            if valid:
                print(json.dumps(event["data"].get("changes"), indent=2), flush=True)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    print(f"Listening on http://{options.host}:{options.port}/", flush=True)
    HTTPServer((options.host, options.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
