"""A stand-in for Meta's WhatsApp Cloud API, for the demo (not for production, not a test oracle).

It answers ``POST /{version}/{phone_number_id}/messages`` the way the Cloud API does
(``{"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}], "messages": [{"id":
"wamid…"}]}``, bearer token required), writes each message as a JSON line to ``--log``, and then
posts the message's status webhooks (``sent``, ``delivered``, and for every other message
``read``) to Tarefa's ``/v1/callbacks/whatsapp``, signed with ``X-Hub-Signature-256`` under the
app secret, as Meta does.

Usage: ``python fake_whatsapp.py --port 8091 --callback http://127.0.0.1:8080/v1/callbacks/whatsapp
--app-secret S --waba-id W --log .tarefa/whatsapp.jsonl``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_ids = itertools.count(1)
_lock = threading.Lock()


def _status_body(waba: str, phone_id: str, wamid: str, to: str, status: str) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "5511900000000", "phone_number_id": phone_id},
        "statuses": [{"id": wamid, "status": status, "timestamp": str(int(time.time())),
                      "recipient_id": to.lstrip("+"),
                      "conversation": {"id": "conv-demo", "origin": {"type": "marketing"}},
                      "pricing": {"billable": True, "pricing_model": "PMP", "category": "marketing"}}],
    }
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": waba, "changes": [{"value": value, "field": "messages"}]}]}).encode()


def _post_statuses(args, phone_id: str, wamid: str, to: str, n: int) -> None:
    statuses = ["sent", "delivered"] + (["read"] if n % 2 == 0 else [])
    for st in statuses:
        time.sleep(0.2)
        body = _status_body(args.waba_id, phone_id, wamid, to, st)
        sig = "sha256=" + hmac.new(args.app_secret.encode(), body, hashlib.sha256).hexdigest()
        req = urllib.request.Request(args.callback, data=body, method="POST", headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": sig})
        try:
            urllib.request.urlopen(req, timeout=5).read()
        except Exception as e:  # the demo goes on; Tarefa keeps the message as sent
            print(f"status callback failed: {e}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8091)
    ap.add_argument("--callback", required=True)
    ap.add_argument("--app-secret", required=True)
    ap.add_argument("--waba-id", default="demo-waba")
    ap.add_argument("--log", required=True)
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):  # quiet
            pass

        def _json(self, code: int, obj) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            parts = self.path.strip("/").split("/")
            if len(parts) != 3 or parts[2] != "messages":
                return self._json(404, {"error": {"message": "Unknown path", "type": "OAuthException",
                                                  "code": 803, "fbtrace_id": "demo"}})
            if not self.headers.get("Authorization", "").startswith("Bearer "):
                return self._json(401, {"error": {"message": "Invalid OAuth access token",
                                                  "type": "OAuthException", "code": 190,
                                                  "fbtrace_id": "demo"}})
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            to = str(body.get("to", ""))
            n = next(_ids)
            wamid = f"wamid.DEMO{n:06d}"
            with _lock, open(args.log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"wamid": wamid, "phone_number_id": parts[1], "to": to,
                                    "type": body.get("type"), "template": body.get("template"),
                                    "text": body.get("text")}, ensure_ascii=False) + "\n")
            self._json(200, {"messaging_product": "whatsapp",
                             "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
                             "messages": [{"id": wamid}]})
            threading.Thread(target=_post_statuses, args=(args, parts[1], wamid, to, n),
                             daemon=True).start()

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
