"""A local HTTPS server for fetch tests: a throwaway CA and certificate made with ``cryptography``,
``http.server`` in a thread, scripted responses per path, and a log of every request."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from contextlib import contextmanager
from contextlib import suppress
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID

UTC = datetime.UTC


@dataclass(frozen=True)
class CertFiles:
    ca_pem: Path
    cert_pem: Path
    key_pem: Path


def make_ca(folder: Path) -> CertFiles:
    """A CA and a server certificate for 127.0.0.1/localhost, valid for a day, written as PEM files."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gateway test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = CertFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    paths.ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (a timeout test); cut short when the server stops."""


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]


def send_reply(handler: BaseHTTPRequestHandler, reply: Reply, stopping: threading.Event) -> None:
    """Answer the request with ``reply`` (after its delay, cut short when the server stops)."""
    if reply.delay:
        stopping.wait(reply.delay)
    handler.send_response(reply.status)
    for key, value in reply.headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(reply.body)))
    handler.end_headers()
    with suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
        handler.wfile.write(reply.body)


def tls_server(
    handler: type[BaseHTTPRequestHandler], ca: CertFiles
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """A threading HTTPS server on a free local port with the test CA's certificate, and its (unstarted)
    serving thread."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(ca.cert_pem, ca.key_pem)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    return httpd, threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})


class TlsTestServer:
    """What the test servers share: a serving thread started and stopped around a test."""

    httpd: ThreadingHTTPServer
    thread: threading.Thread
    stopping: threading.Event

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


_S = TypeVar("_S", bound=TlsTestServer)


@contextmanager
def running(server: _S) -> Iterator[_S]:
    """``server`` started for the ``with`` block, stopped after it."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Server(TlsTestServer):
    """Scripted HTTPS server: ``route(path, reply, ...)``; replies are used in order, the last one sticks."""

    def __init__(self, ca: CertFiles) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
                    replies = server.routes.get(self.path)
                    reply = (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else Reply(404)
                send_reply(self, reply, server.stopping)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd, self.thread = tls_server(Handler, ca)

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.httpd.server_address[1]}"

    def route(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self.routes[path] = list(replies)

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]


def serving(ca: CertFiles) -> AbstractContextManager[Server]:
    return running(Server(ca))
