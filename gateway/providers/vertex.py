"""Vertex AI with a project and location, authenticated as a service account: the Gemini
wire format (gateway/providers/gemini.py) at the project's regional endpoint, with a bearer
token that google-auth signs for and refreshes.

`POST https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/
publishers/google/models/{model}:generateContent` (the global location has no prefix), as in
cloud.google.com/vertex-ai/generative-ai/docs/model-reference/inference and googleapis/
python-genai google/genai/_api_client.py. The token comes from the service-account file of
GOOGLE_APPLICATION_CREDENTIALS, through google-auth's service_account.Credentials, whose
requests go through the gateway's own HTTP client.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import httpx
from google.auth import exceptions as auth_errors
from google.auth import transport
from google.oauth2 import service_account

from gateway.errors import ProviderError
from gateway.http import Deadline, send
from gateway.providers.gemini import GeminiProvider
from gateway.types import ErrorKind

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
DEFAULT_LOCATION = "global"


class VertexProjectProvider(GeminiProvider):
    """Vertex AI in a project: `VERTEX_PROJECT`, `VERTEX_LOCATION` (default global) and the
    service account of `GOOGLE_APPLICATION_CREDENTIALS`. The token is shared by every call and
    refreshed by one of them when it expires (google-auth counts it expired a few minutes
    early, so no call goes out with a token about to lapse)."""

    def __init__(
        self,
        *,
        name: str,
        project: str,
        location: str,
        credentials: service_account.Credentials,
        base_url: str,
        client: httpx.Client,
        poll_interval: float = 0.5,
    ) -> None:
        super().__init__(
            name=name, api_key="", base_url=base_url, client=client, poll_interval=poll_interval
        )
        self.credentials = credentials
        self.models_url = (
            f"{self.base_url}/v1/projects/{project}/locations/{location}/publishers/google/models"
        )
        self._lock = threading.Lock()

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], client: httpx.Client, *, poll_interval: float = 0.5
    ) -> VertexProjectProvider | None:
        """The provider when VERTEX_PROJECT is set, else None. A credentials file that cannot
        be read is a configuration error, said at start-up rather than on every call."""
        project = environ.get("VERTEX_PROJECT")
        if not project:
            return None
        location = environ.get("VERTEX_LOCATION") or DEFAULT_LOCATION
        path = environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        if not path:
            raise ValueError(
                "VERTEX_PROJECT is set but GOOGLE_APPLICATION_CREDENTIALS, the service "
                "account's JSON key file, is not."
            )
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
        factory = service_account.Credentials.from_service_account_info
        credentials = factory(info, scopes=SCOPES)  # type: ignore[no-untyped-call]
        host = "aiplatform" if location == "global" else f"{location}-aiplatform"
        return cls(
            name="vertex",
            project=project,
            location=location,
            credentials=credentials,
            base_url=environ.get("VERTEX_BASE_URL") or f"https://{host}.googleapis.com",
            client=client,
            poll_interval=poll_interval,
        )

    def configured(self) -> bool:
        return True

    def endpoint(self, model: str) -> str:
        return f"{self.models_url}/{model}:generateContent"

    def auth_headers(self, deadline: Deadline) -> dict[str, str]:
        with self._lock:
            if not self.credentials.valid:
                try:
                    self.credentials.refresh(_AuthRequest(self.client, deadline))  # type: ignore[no-untyped-call]
                except auth_errors.RefreshError as exc:
                    said = exc.args[0] if exc.args else exc  # the rest is the answer's body
                    raise ProviderError(
                        ErrorKind.AUTH, f"Vertex AI: the service account got no token: {said}"
                    ) from None
                except auth_errors.TransportError as exc:
                    raise ProviderError(
                        ErrorKind.CONNECTION, f"Vertex AI: the token endpoint failed: {exc}"
                    ) from None
            return {"Authorization": f"Bearer {self.credentials.token}"}

    def refused(self, response: httpx.Response) -> None:
        # A token revoked before it expired: the next call signs for a new one.
        if response.status_code == 401:
            with self._lock:
                self.credentials.token = None


class _AuthResponse(transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class _AuthRequest(transport.Request):
    """google-auth's HTTP interface over the gateway's client, within the call's deadline."""

    def __init__(self, client: httpx.Client, deadline: Deadline) -> None:
        self.client = client
        self.deadline = deadline

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _AuthResponse:
        try:
            reply = send(
                self.client, method, url, self.deadline, content=body, headers=dict(headers or {})
            )
        except ProviderError as exc:
            raise auth_errors.TransportError(exc.message) from None  # type: ignore[no-untyped-call]
        return _AuthResponse(reply.response)
