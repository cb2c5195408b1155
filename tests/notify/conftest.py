"""A real HTTP receiver for apprise's json:// targets, and a listener that never answers."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# A token in the path and the query, as webhooks carry them: it must never show.
TOKEN = "s3cr3t-T0KEN-9f2c"


@dataclass
class Receiver:
    port: int
    messages: list[dict] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # the X-Token header of each request

    @property
    def url(self) -> str:
        # apprise's json:// sends `+NAME=value` query arguments as headers.
        return f"json://127.0.0.1:{self.port}/hook/{TOKEN}?+X-Token={TOKEN}"

    def titles(self) -> list[str]:
        return [m.get("title", "") for m in self.messages]


@pytest.fixture
def receiver():
    got = Receiver(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            got.messages.append(json.loads(self.rfile.read(length) or b"{}"))
            got.paths.append(self.path)
            got.tokens.append(self.headers.get("X-Token", ""))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield got
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_url():
    """A port that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"json://127.0.0.1:{sock.getsockname()[1]}/hook/{TOKEN}"
    sock.close()
