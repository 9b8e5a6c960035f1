"""Optional LLM rewrite of the T5 text: a real local HTTP server speaking the chat-completions
shape, and the deterministic fallback when the endpoint is closed or answers badly."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cliplens.compose import compose, rewrite_sentences

PROMPT = {"subject": "red fox", "setting": "snowy forest", "style": "watercolor painting"}


class _ChatHandler(BaseHTTPRequestHandler):
    """POST /v1/chat/completions: answers with the draft rewritten by a fixed rule (or a chosen bad answer)."""

    answer_mode = "good"
    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        if self.path != "/v1/chat/completions":
            self.send_response(404)
            self.end_headers()
            return
        draft = body["messages"][-1]["content"].split("Draft description:\n", 1)[1].split("\n\n", 1)[0]
        if type(self).answer_mode == "status":
            self.send_response(500)
            self.end_headers()
            return
        content = {"good": "In this picture, " + draft[0].lower() + draft[1:],
                   "json": '{"text": "' + draft + '"}',
                   "empty": "   "}[type(self).answer_mode]
        data = json.dumps({"id": "x", "object": "chat.completion", "model": body["model"],
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                        "finish_reason": "stop"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture()
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _ChatHandler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    _ChatHandler.requests = []
    _ChatHandler.answer_mode = "good"
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_rewrite_through_a_local_endpoint(server):
    plain = compose(PROMPT, "flux")
    r = compose(PROMPT, "flux", rewrite_url=server + "/v1", rewrite_model="tiny-llm")
    assert r.rewritten and not r.warnings
    assert r.fields["t5xxl"].startswith("In this picture, there is a red fox.")
    assert r.fields["clip_l"] == plain.fields["clip_l"]        # CLIP keywords are never rewritten
    req = _ChatHandler.requests[-1]
    assert req["path"] == "/v1/chat/completions" and req["body"]["model"] == "tiny-llm"
    assert req["body"]["temperature"] == 0 and req["body"]["messages"][0]["role"] == "system"
    assert plain.fields["t5xxl"] in req["body"]["messages"][-1]["content"]
    # a base URL without /v1 works too
    assert compose(PROMPT, "flux", rewrite_url=server).rewritten


@pytest.mark.parametrize("mode, reason", [("json", "syntax"), ("empty", "empty"), ("status", "HTTPStatusError")])
def test_bad_answers_fall_back(server, mode, reason):
    _ChatHandler.answer_mode = mode
    plain = compose(PROMPT, "flux").fields["t5xxl"]
    r = compose(PROMPT, "flux", rewrite_url=server)
    assert not r.rewritten and r.fields["t5xxl"] == plain
    assert any(w.startswith("rewrite skipped") and reason in w for w in r.warnings)


def test_closed_port_falls_back_quickly():
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    text, warning = rewrite_sentences("There is a red fox.", PROMPT, url, timeout=1.0)
    assert text == "There is a red fox." and "ConnectError" in warning
    r = compose(PROMPT, "sd3", rewrite_url=url, rewrite_timeout=1.0)
    assert r.fields["t5xxl"] == compose(PROMPT, "sd3").fields["t5xxl"]
    assert any("rewrite skipped" in w for w in r.warnings)
