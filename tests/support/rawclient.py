"""A minimal HTTPS client for protocol-level tests: exact requests, exact answers."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml


class Response:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def warnings(self) -> list[str]:
        return self.headers.get_all("Warning") or []


class RawClient:
    """Speaks HTTPS to the API server with the kubeconfig's CA and (optionally) its user."""

    def __init__(self, kubeconfig: Path, authenticated: bool = True) -> None:
        cfg = yaml.safe_load(kubeconfig.read_text())
        cluster = cfg["clusters"][0]["cluster"]
        url = urlparse(cluster["server"])
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 443
        ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
        self.ctx = ssl.create_default_context(cadata=ca)
        if authenticated:
            user = cfg["users"][0]["user"]
            self._dir = tempfile.TemporaryDirectory()
            cert, key = Path(self._dir.name) / "c.crt", Path(self._dir.name) / "c.key"
            cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
            key.write_bytes(base64.b64decode(user["client-key-data"]))
            self.ctx.load_cert_chain(cert, key)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> Response:
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)
        data: bytes | None
        if body is None or isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
        hdrs = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            return Response(resp.status, resp.headers, resp.read())
        finally:
            conn.close()

    def stream(
        self, path: str, headers: dict[str, str] | None = None, timeout: float = 30
    ) -> http.client.HTTPResponse:
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)
        conn.request("GET", path, headers={"Accept": "application/json", **(headers or {})})
        return conn.getresponse()

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> Response:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> Response:
        return self.request("PUT", path, body, **kw)

    def patch(self, path: str, body: Any, content_type: str, **kw: Any) -> Response:
        headers = {"Content-Type": content_type, **kw.pop("headers", {})}
        return self.request("PATCH", path, body, headers=headers, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("DELETE", path, body, **kw)
