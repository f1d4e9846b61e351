"""The demo customer API the example calls: GET /customers/<id> answers JSON, 404 for unknown ids.
Run by scripts/run-example.sh RestEnrichment on loopback; CUSTOMER_API_TOKEN must match."""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CUSTOMERS = {
    "c1": {"id": "c1", "name": "Ann", "tier": "gold"},
    "c2": {"id": "c2", "name": "Bob", "tier": "silver"},
    "c3": {"id": "c3", "name": "Cid", "tier": "bronze"},
    "c4": {"id": "c4", "name": "Dee", "tier": "gold"},
}
TOKEN = os.environ.get("CUSTOMER_API_TOKEN", "")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.answer(401, {"error": "unauthorized"})
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "customers" and parts[1] in CUSTOMERS:
            return self.answer(200, CUSTOMERS[parts[1]])
        return self.answer(404, {"error": "not found"})

    def answer(self, status, body):
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8089
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
