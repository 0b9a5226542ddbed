"""A local stand-in for DSK's 収納データPOST方式取得 (tests only): HTTPS with the test CA of
``https_server.py``, a form POST of ``USER_ID``/``PW``/``FROM_DATE``/``TO_DATE`` answered per ``FROM_DATE``
with scripted replies (used in order, the last one sticks), and a log of every request with its form."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from tests.jobs.https_server import CertFiles
from tests.jobs.https_server import Reply
from tests.jobs.https_server import TlsTestServer
from tests.jobs.https_server import running
from tests.jobs.https_server import send_reply
from tests.jobs.https_server import tls_server

PATH = "/CVS001_055/CVS055_4203.php"
"""The path of DSK's endpoint (https://ec-web.densan-s.co.jp/CVS001_055/CVS055_4203.php)."""


@dataclass(frozen=True)
class Posted:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


class DskServer(TlsTestServer):
    """``day(YYYYMMDD, reply, ...)`` scripts the answers for a ``FROM_DATE``; other days get ``default``."""

    def __init__(self, ca: CertFiles) -> None:
        self.days: dict[str, list[Reply]] = {}
        self.default = Reply(404)
        self.requests: list[Posted] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, form: dict[str, str]) -> None:
                with server._lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    server.requests.append(Posted(self.command, self.path, headers, form))
                    replies = server.days.get(form.get("FROM_DATE", ""))
                    if self.path != PATH or self.command != "POST":
                        reply = Reply(405)
                    elif replies:
                        reply = replies.pop(0) if len(replies) > 1 else replies[0]
                    else:
                        reply = server.default
                send_reply(self, reply, server.stopping)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("ascii")
                form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
                self._answer(form)

            def do_GET(self) -> None:
                self._answer({})

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd, self.thread = tls_server(Handler, ca)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.httpd.server_address[1]}{PATH}"

    def day(self, from_date: str, *replies: Reply) -> None:
        with self._lock:
            self.days[from_date] = list(replies)

    def asked(self) -> list[str]:
        """The ``FROM_DATE`` of every request, in order."""
        with self._lock:
            return [r.form.get("FROM_DATE", "") for r in self.requests]


def dsk_serving(ca: CertFiles) -> AbstractContextManager[DskServer]:
    return running(DskServer(ca))
