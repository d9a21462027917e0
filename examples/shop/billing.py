"""The shop's billing service: Python 3, standard library only.

POST /billing/charge {"order", "user", "amount"} answers the charge. `--v2` runs version 2,
which also itemizes the tax. The sidecar tells it who called in x-sekisho-peer; only `orders`
is allowed in (see sekisho.yaml), so the app itself never checks credentials.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "v2" if "--v2" in sys.argv else "v1"
TAX_RATE = 0.1


class Billing(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != "/billing/charge":
            return self.reply(404, {"error": "POST /billing/charge"})
        length = int(self.headers.get("content-length") or 0)
        try:
            charge = json.loads(self.rfile.read(length) or b"{}")
            amount = float(charge["amount"])
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"error": 'give {"order", "user", "amount"}'})
        answer = {
            "charged": True,
            "order": charge.get("order"),
            "amount": amount,
            "version": VERSION,
            "caller": self.headers.get("x-sekisho-peer"),
        }
        if VERSION == "v2":
            answer["tax"] = round(amount * TAX_RATE, 2)
        self.reply(200, answer)

    def reply(self, status, body):
        text = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format, *args):
        sys.stdout.write("billing %s %s\n" % (VERSION, format % args))
        sys.stdout.flush()


if __name__ == "__main__":
    port = int(os.environ["PORT"])
    print("billing %s listening on %d" % (VERSION, port), flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Billing).serve_forever()
