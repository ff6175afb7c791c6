"""A gateway whose certificate a private CA signs (a TLS-inspecting proxy's, a test gateway's):
refused with the built-in roots, reached once ``ca_file`` (a str or a ``pathlib.Path``) or
``ca_pem`` names the CA, by the sync and the async client; a CA option that cannot be used is a
``ValidationError`` naming it."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Iterator

import pytest

import sosopay
from sosopay.aio import AsyncClient

from conftest import BUSI, KEY, Sandbox

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ca.pem (a private CA), server.pem/server.key (127.0.0.1, signed by it), other.pem."""
    d = tmp_path_factory.mktemp("ca")
    for name in ("ca", "other"):
        _openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", f"/CN=sosopay test {name}", "-keyout", f"{name}.key", "-out", f"{name}.pem",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl(d, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "server.key", "-out", "server.csr")
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    _openssl(d, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "server.ext", "-out", "server.pem")
    return d


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture(scope="module")
def https_url(ca_dir: Path, sandbox: Sandbox) -> Iterator[str]:
    """The sandbox behind an HTTPS front whose certificate the private CA signs."""
    host, port = sandbox.root.split("//")[1].split(":")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ca_dir / "server.pem", ca_dir / "server.key")
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                tls = ctx.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                raw.close()  # a handshake the client refused
                continue
            up = socket.create_connection((host, int(port)))
            threading.Thread(target=_pipe, args=(tls, up), daemon=True).start()
            threading.Thread(target=_pipe, args=(up, tls), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}/openGateway/openService/"
    stop.set()
    listener.close()


def _client(url: str, **tls: object) -> sosopay.Client:
    return sosopay.Client(busi_code=BUSI, key=KEY, base_url=url, encrypt=True, **tls)  # type: ignore[arg-type]


def test_a_private_ca_is_refused_by_default(https_url: str, ca_dir: Path) -> None:
    with pytest.raises(sosopay.TransportError) as e:
        _client(https_url).query(charge_code="TLS-NONE")
    assert e.value.maybe_sent is False and not e.value.outcome_unknown
    assert "certificate" in str(e.value).lower()
    # Another CA replaces the built-in roots, and does not sign this gateway either.
    with pytest.raises(sosopay.TransportError):
        _client(https_url, ca_file=ca_dir / "other.pem").query(charge_code="TLS-NONE")


def test_the_ca_given_as_a_path_a_str_or_pem_text_is_trusted(https_url: str, ca_dir: Path) -> None:
    pem = (ca_dir / "ca.pem").read_text()
    for tls in ({"ca_file": ca_dir / "ca.pem"}, {"ca_file": str(ca_dir / "ca.pem")}, {"ca_pem": pem}):
        # An unknown order is the gateway's own answer: the request went there and back, 3DES on.
        with pytest.raises(sosopay.GatewayError):
            _client(https_url, **tls).query(charge_code="TLS-NONE")


def test_the_async_client_trusts_the_same_ca(https_url: str, ca_dir: Path) -> None:
    async def main() -> None:
        async with AsyncClient(busi_code=BUSI, key=KEY, base_url=https_url, encrypt=True, ca_file=ca_dir / "ca.pem") as c:
            with pytest.raises(sosopay.GatewayError):
                await c.query(charge_code="TLS-NONE")

    asyncio.run(main())


def test_a_ca_option_that_cannot_be_used_names_it(ca_dir: Path) -> None:
    url = "https://127.0.0.1:9/openGateway/openService/"
    cases: "list[tuple[dict[str, object], str, str]]" = [
        ({"ca_file": ca_dir / "missing.pem"}, "ca_file", "cannot read"),
        ({"ca_file": ca_dir / "ca.key"}, "ca_file", "not a certificate"),
        ({"ca_pem": "no certificate here"}, "ca_pem", "no PEM certificate"),
        ({"ca_file": ca_dir / "ca.pem", "ca_pem": (ca_dir / "ca.pem").read_text()}, "ca_file", "ca_pem"),
    ]
    for tls, field, words in cases:
        with pytest.raises(sosopay.ValidationError) as e:
            _client(url, **tls)
        assert e.value.field == field and words in str(e.value), (tls, str(e.value))
    with pytest.raises(TypeError, match="ca_file: expected a str or os.PathLike, got int"):
        _client(url, ca_file=3)
