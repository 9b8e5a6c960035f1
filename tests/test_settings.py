"""The hub probe honours mirrors and proxies and never hangs; cache locks are portable (issue 13, item 4).

Everything runs against local sockets: a tiny HTTP proxy in a thread stands in for a corporate proxy.
"""
from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest

from cliplens import settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for k in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy",
              "no_proxy", "HF_ENDPOINT", "CLIPLENS_NETWORK_TIMEOUT"):
        monkeypatch.delenv(k, raising=False)
    settings._reachable.cache_clear()
    yield
    settings._reachable.cache_clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def listener():
    """A TCP port that accepts connections (a stand-in hub for the direct probe)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    yield srv.getsockname()[1]
    srv.close()


def _proxy(status: int, delay: float = 0.0):
    """An HTTP proxy that answers every request with `status` (after `delay` s) and records the URLs."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):  # noqa: N802
            seen.append(self.path)
            time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD  # noqa: N815

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, seen


def test_hf_endpoint_is_the_probed_host(monkeypatch, listener):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{listener}/")
    assert settings.hub_endpoint() == f"http://127.0.0.1:{listener}"
    assert settings.hub_reachable()
    settings._reachable.cache_clear()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_free_port()}")   # nothing listens there
    assert not settings.hub_reachable()


def test_probe_goes_through_the_configured_proxy(monkeypatch):
    srv, seen = _proxy(200)
    try:
        # the hub name does not resolve here: only a request through the proxy can succeed
        monkeypatch.setenv("HF_ENDPOINT", "http://hub.cliplens-test.invalid")
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{srv.server_address[1]}")
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{srv.server_address[1]}")
        assert settings.proxy_for(settings.hub_endpoint()) is not None
        assert settings.hub_reachable()
        assert seen and "hub.cliplens-test.invalid" in seen[0]
    finally:
        srv.shutdown()


def test_hub_error_answers_count_as_reachable_but_gateway_errors_do_not(monkeypatch):
    for status, expected in ((404, True), (401, True), (502, False), (407, False)):
        srv, _ = _proxy(status)
        try:
            settings._reachable.cache_clear()
            monkeypatch.setenv("HF_ENDPOINT", "http://hub.cliplens-test.invalid")
            monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{srv.server_address[1]}")
            assert settings.hub_reachable() is expected, status
        finally:
            srv.shutdown()


def test_no_proxy_exempts_the_hub(monkeypatch, listener):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{listener}")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_free_port()}")   # a dead proxy
    assert settings.proxy_for(settings.hub_endpoint()) is not None
    assert not settings.hub_reachable()
    settings._reachable.cache_clear()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert settings.proxy_for(settings.hub_endpoint()) is None
    assert settings.hub_reachable()


def test_a_silent_proxy_times_out_quickly_to_offline(monkeypatch):
    srv, _ = _proxy(200, delay=5.0)
    try:
        monkeypatch.setenv("HF_ENDPOINT", "http://hub.cliplens-test.invalid")
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{srv.server_address[1]}")
        monkeypatch.setenv("CLIPLENS_NETWORK_TIMEOUT", "0.5")
        t0 = time.perf_counter()
        assert not settings.hub_reachable()
        assert time.perf_counter() - t0 < 3.0
    finally:
        srv.shutdown()


def test_offline_flags(monkeypatch):
    for k in ("CLIPLENS_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(k, raising=False)
    assert not settings.offline_requested()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert settings.offline_requested() and settings.is_offline()
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert not settings.offline_requested()


def test_bad_timeout_setting_falls_back(monkeypatch):
    monkeypatch.setenv("CLIPLENS_NETWORK_TIMEOUT", "soon")
    assert settings.network_timeout() == 3.0


def test_cache_lock_excludes_a_second_holder(tmp_path):
    from filelock import Timeout

    target = tmp_path / "table.npy"
    with settings.cache_lock(target):
        assert (tmp_path / "table.npy.lock").exists()
        with pytest.raises(Timeout):
            with settings.cache_lock(target, timeout=0.1):
                pass
    with settings.cache_lock(target, timeout=0.1):   # released
        pass
