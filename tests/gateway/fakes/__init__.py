"""Fake provider servers on 127.0.0.1 that speak each provider's wire format.

Each fake scripts one provider on the shared threaded test server: it answers with the recorded
shapes in this folder (see README.md for the documentation they follow), and tests swap in a
fault where they need one: an error body, a hang past the client's timeout, bytes that are no
image, a queue that never finishes.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FIXTURES = Path(__file__).parent
Handler = Callable[[Request], Response]


def png(color: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


IMAGE = png()
GARBAGE = b"<html><body>502 Bad Gateway</body></html>"


def fixture(name: str, **values: str) -> Any:
    """A recorded response, e.g. `fixture("openai/generation_b64", image_b64=...)`."""
    return _fill(json.loads((FIXTURES / f"{name}.json").read_text()), values)


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in values.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    return value


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, headers, content_type="application/json")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Fake:
    """One provider's fake on the shared server."""

    def __init__(self, server: HTTPServer, release: threading.Event) -> None:
        self.server = server
        self.release = release
        self.ids = itertools.count(1)
        server.expect_request(re.compile(r"^/files/.*")).respond_with_data(
            IMAGE, content_type="image/png"
        )

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def seen(self, pattern: str, method: str | None = None) -> list[Request]:
        """The requests whose path matches `pattern`, in order."""
        return [
            request
            for request, _ in self.server.log
            if re.fullmatch(pattern, request.path) and method in (None, request.method)
        ]

    def hang(self, request: Request) -> Response:
        """Hold the connection until the test ends: the client must give up on its own."""
        self.release.wait(10)
        return reply({}, 504)

    def garbage(self, request: Request) -> Response:
        return Response(GARBAGE, 200, content_type="image/png")

    def on(self, path: str | re.Pattern[str], handler: Handler, method: str = "POST") -> None:
        self.server.expect_request(path, method=method).respond_with_handler(handler)

    def once(self, path: str, handler: Handler, method: str = "POST") -> None:
        """Answer the next matching request with `handler`, before any permanent handler."""
        self.server.expect_oneshot_request(path, method=method).respond_with_handler(handler)


def fails(name: str, status: int, headers: dict[str, str] | None = None, **values: str) -> Handler:
    return lambda request: reply(fixture(name, **values), status, headers)


class FakeOpenAI(Fake):
    def __init__(self, server: HTTPServer, release: threading.Event) -> None:
        super().__init__(server, release)
        # Uploaded files are gone once the request ends; the handler keeps (bytes, type).
        self.uploads: list[dict[str, list[tuple[bytes, str]]]] = []

    def env(self) -> dict[str, str]:
        return {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"{self.url}/v1"}

    def images(self, *, as_url: bool = False) -> Handler:
        """Answer with as many images as the request's `n` asks for."""

        def handle(request: Request) -> Response:
            fields = request.form if request.files else request.get_json()
            if request.files:
                self.uploads.append(
                    {
                        name: [(f.read(), f.mimetype) for f in request.files.getlist(name)]
                        for name in request.files
                    }
                )
            count = int(fields.get("n", 1))
            # Every answer names its request (the API reference's "Debugging requests").
            headers = {"x-request-id": f"req_{next(self.ids)}"}
            if as_url:
                item = fixture("openai/generation_url", base=self.url)["data"][0]
                return reply({"created": 1713833628, "data": [item] * count}, headers=headers)
            body = fixture("openai/generation_b64", image_b64=b64(IMAGE), prompt=fields["prompt"])
            body["data"] = body["data"] * count
            return reply(body, headers=headers)

        return handle


class FakeGemini(Fake):
    PATHS = {
        "gemini": "/v1beta/models/{model}:generateContent",
        "vertex": "/v1/publishers/google/models/{model}:generateContent",
    }

    def env(self) -> dict[str, str]:
        return {
            "GEMINI_API_KEY": "gemini-test",
            "GEMINI_BASE_URL": self.url,
            "VERTEX_API_KEY": "vertex-test",
            "VERTEX_BASE_URL": self.url,
        }

    def path(self, model: str, service: str = "gemini") -> str:
        return self.PATHS[service].format(model=model)

    def image(self, model: str) -> Handler:
        return lambda request: reply(
            fixture("gemini/generate_image", image_b64=b64(IMAGE), model=model)
        )


class FakeFal(Fake):
    """The fal queue: submit, a status URL walked through `statuses`, then the result."""

    def __init__(self, server: HTTPServer, release: threading.Event) -> None:
        super().__init__(server, release)
        self.inputs: dict[str, Any] = {}
        self.progress: dict[str, Iterator[str]] = {}
        self.current: dict[str, str] = {}  # request id -> the status last answered

    def env(self) -> dict[str, str]:
        return {"FAL_KEY": "fal-test", "FAL_BASE_URL": self.url}

    def model(
        self,
        model_id: str,
        *,
        statuses: tuple[str, ...] = ("in_queue", "in_progress", "completed"),
        result: Handler | None = None,
    ) -> None:
        inputs, progress, current = self.inputs, self.progress, self.current
        # Status and result live under the app (owner/name), not under an endpoint's sub-path.
        app = "/".join(model_id.split("/", 2)[:2])
        pattern = re.escape(app)

        def submit(request: Request) -> Response:
            request_id = f"req-{next(self.ids)}"
            inputs[request_id] = request.get_json()
            progress[request_id] = itertools.chain(statuses, itertools.repeat(statuses[-1]))
            return reply(fixture("fal/submit", base=self.url, model_id=app, request_id=request_id))

        def status(request: Request) -> Response:
            request_id = request.path.split("/")[-2]
            name = current[request_id] = next(progress[request_id])
            return reply(
                fixture(f"fal/status_{name}", base=self.url, model_id=app, request_id=request_id)
            )

        def images(request: Request) -> Response:
            request_id = request.path.split("/")[-1]
            arguments = inputs[request_id]
            body = fixture(
                "fal/result", base=self.url, request_id=request_id, prompt=arguments["prompt"]
            )
            count = int(arguments.get("num_images", 1))
            body["images"] = body["images"] * count
            body["has_nsfw_concepts"] = [False] * count
            return reply(body)

        self.on(f"/{model_id}", submit)
        self.on(re.compile(rf"^/{pattern}/requests/[^/]+/status$"), status, "GET")
        self.on(re.compile(rf"^/{pattern}/requests/[^/]+$"), result or images, "GET")

        def cancel(request: Request) -> Response:
            # A queued request is removed, a running one signalled (202); a finished one
            # cannot be (400 ALREADY_COMPLETED).
            if current.get(request.path.split("/")[-2]) == "completed":
                return reply(fixture("fal/cancel_already_completed"), 400)
            return reply(fixture("fal/cancel_requested"), 202)

        self.on(re.compile(rf"^/{pattern}/requests/[^/]+/cancel$"), cancel, "PUT")

    def submitted(self, model_id: str) -> list[dict[str, Any]]:
        return [request.get_json() for request in self.seen(f"/{model_id}", "POST")]


ENDED = frozenset({"succeeded", "failed", "failed_nsfw", "canceled"})


class FakeReplicate(Fake):
    """Replicate predictions: created, walked through `statuses` on urls.get, then final."""

    def env(self) -> dict[str, str]:
        return {"REPLICATE_API_TOKEN": "r8-test", "REPLICATE_BASE_URL": self.url}

    def model(
        self,
        model: str,
        *,
        statuses: tuple[str, ...] = ("starting", "processing", "succeeded"),
        output_list: bool = False,
    ) -> None:
        progress: dict[str, Iterator[str]] = {}
        current: dict[str, str] = {}
        final = "succeeded_list" if output_list else "succeeded"

        def prediction(prediction_id: str, name: str) -> Response:
            current[prediction_id] = name
            name = final if name == "succeeded" else name
            return reply(
                fixture(
                    f"replicate/prediction_{name}",
                    base=self.url,
                    prediction_id=prediction_id,
                    model=model,
                    prompt="",
                )
            )

        def create(request: Request) -> Response:
            prediction_id = f"p{next(self.ids)}"
            progress[prediction_id] = itertools.chain(statuses, itertools.repeat(statuses[-1]))
            response = prediction(prediction_id, next(progress[prediction_id]))
            response.status_code = 201
            return response

        def get(request: Request) -> Response:
            prediction_id = request.path.rsplit("/", 1)[-1]
            return prediction(prediction_id, next(progress[prediction_id]))

        self.on(f"/v1/models/{model}/predictions", create)
        self.on(re.compile(r"^/v1/predictions/[^/]+$"), get, "GET")

        def cancel(request: Request) -> Response:
            # The prediction as it now is: canceled, unless it had already ended.
            prediction_id = request.path.split("/")[-2]
            name = current.get(prediction_id, "starting")
            return prediction(prediction_id, name if name in ENDED else "canceled")

        self.on(re.compile(r"^/v1/predictions/[^/]+/cancel$"), cancel, "POST")

    def created(self, model: str) -> list[dict[str, Any]]:
        return [request.get_json() for request in self.seen(f"/v1/models/{model}/predictions")]
