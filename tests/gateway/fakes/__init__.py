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
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from google.auth import jwt
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
            sources = len(request.files.getlist("image[]"))
            body["usage"] = self.usage(fields.get("quality"), count, sources)
            return reply(body, headers=headers)

        return handle

    def streamed_images(
        self, partials: list[bytes], *, error: dict[str, Any] | None = None
    ) -> Handler:
        """Answer a `"stream": true` request in server-sent events (README: openai/, streaming):
        as many of `partials` as `partial_images` asks for, then the completed image, or
        `error` in its place."""

        def handle(request: Request) -> Response:
            fields = request.form if request.files else request.get_json()
            edit = bool(request.files)
            prefix = "image_edit" if edit else "image_generation"
            wanted = int(fields.get("partial_images", 0))
            echo = {"background": "opaque", "output_format": "png", "quality": "medium"}
            echo |= {"size": "1024x1024", "created_at": 1713833628}

            def events() -> Iterator[bytes]:
                for index, image in enumerate(partials[:wanted]):
                    yield _event(
                        f"{prefix}.partial_image",
                        {"b64_json": b64(image), "partial_image_index": index} | echo,
                    )
                if error is not None:
                    yield _event("error", {"type": "error", "error": error})
                    return
                usage = self.usage(fields.get("quality"), 1, len(request.files.getlist("image[]")))
                yield _event(
                    f"{prefix}.completed", {"b64_json": b64(IMAGE), "usage": usage} | echo
                )

            headers = {"x-request-id": f"req_{next(self.ids)}"}
            return Response(events(), 200, headers, content_type="text/event-stream")

        return handle

    # Output image tokens of one 1024x1024 gpt-image-1 image by quality, and the input tokens
    # of a prompt and of one source image (README: openai/).
    OUTPUT_TOKENS: ClassVar[dict[str, int]] = {"low": 272, "medium": 1056, "high": 4160}
    PROMPT_TOKENS = 10
    SOURCE_IMAGE_TOKENS = 323

    def usage(self, quality: str | None, count: int, sources: int) -> dict[str, Any]:
        """`usage` as gpt-image models report it: the edit's source images among the input
        tokens, every image made among the output tokens ("auto" draws at medium here)."""
        images = self.SOURCE_IMAGE_TOKENS * sources
        output = self.OUTPUT_TOKENS.get(quality or "medium", self.OUTPUT_TOKENS["medium"]) * count
        return {
            "total_tokens": self.PROMPT_TOKENS + images + output,
            "input_tokens": self.PROMPT_TOKENS + images,
            "output_tokens": output,
            "input_tokens_details": {"text_tokens": self.PROMPT_TOKENS, "image_tokens": images},
        }


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind} | data)}\n\n".encode()


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
        width: int = 1024,
        height: int = 1024,
        nsfw: tuple[bool, ...] = (),
    ) -> None:
        """`nsfw` flags the result's images as fal's safety checker does (has_nsfw_concepts),
        the first images first; `width` and `height` are each image's reported size."""
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
            body["images"] = [
                {**image, "width": width, "height": height} for image in body["images"] * count
            ]
            body["has_nsfw_concepts"] = [*nsfw, *[False] * count][:count]
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


class FakeOpenAIBatch(Fake):
    """OpenAI's Batch API for images: a JSONL upload to /v1/files, a batch on
    /v1/images/generations walked through `statuses`, then output and error files.

    A line whose prompt is a key of `failing` ends with that error fixture ("server",
    "policy"); when a batch ends "expired", the lines whose prompt is in `unfinished` end
    `batch_expired` in the error file and the others complete."""

    def __init__(
        self,
        server: HTTPServer,
        release: threading.Event,
        *,
        statuses: tuple[str, ...] = ("validating", "in_progress", "finalizing", "completed"),
    ) -> None:
        super().__init__(server, release)
        self.statuses = statuses
        self.failing: dict[str, str] = {}
        self.unfinished: set[str] = set()
        self.files: dict[str, str] = {}
        self.file_names: dict[str, str] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.cancelled: list[str] = []
        # The most batches one page of the list holds, whatever `limit` asks (tests lower it).
        self.page_limit = 100
        self.on("/v1/files", self._upload)
        self.on("/v1/batches", self._create)
        self.on("/v1/batches", self._list, "GET")
        self.on(re.compile(r"^/v1/batches/[^/]+$"), self._get, "GET")
        self.on(re.compile(r"^/v1/batches/[^/]+/cancel$"), self._cancel)
        self.on(re.compile(r"^/v1/files/[^/]+/content$"), self._content, "GET")

    def env(self) -> dict[str, str]:
        return {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"{self.url}/v1"}

    def lines(self, batch_id: str) -> list[dict[str, Any]]:
        """The request lines of a batch, as uploaded."""
        text = self.files[self.batches[batch_id]["input_file_id"]]
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def _upload(self, request: Request) -> Response:
        if request.form.get("purpose") != "batch":
            return reply({"error": {"message": "purpose must be batch.", "code": None}}, 400)
        file_id = f"file-{next(self.ids)}"
        upload = request.files["file"]
        self.files[file_id] = upload.read().decode()
        self.file_names[file_id] = upload.filename or ""
        return reply(fixture("openai_batch/file", file_id=file_id))

    def _create(self, request: Request) -> Response:
        body = request.get_json()
        if body["endpoint"] != "/v1/images/generations" or body["completion_window"] != "24h":
            return reply(
                {"error": {"message": "Unsupported endpoint or window.", "code": None}}, 400
            )
        batch_id = f"batch_{next(self.ids)}"
        self.batches[batch_id] = {
            "input_file_id": body["input_file_id"],
            "metadata": body.get("metadata"),
            "created_at": int(time.time()),
            "status": "validating",
            "progress": itertools.chain(self.statuses, itertools.repeat(self.statuses[-1])),
        }
        return reply(self._batch(batch_id, "validating"))

    def _list(self, request: Request) -> Response:
        """The account's batches, newest first, `limit` a page; the next page starts after
        the id `after` names."""
        newest_first = list(reversed(self.batches))
        after = request.args.get("after")
        if after is not None:
            if after not in self.batches:
                return reply({"error": {"message": "Invalid 'after'.", "code": None}}, 400)
            newest_first = newest_first[newest_first.index(after) + 1 :]
        limit = min(int(request.args.get("limit", 20)), self.page_limit)
        page = newest_first[:limit]
        data = [self._batch(batch_id, self.batches[batch_id]["status"]) for batch_id in page]
        return reply(
            {
                "object": "list",
                "data": data,
                "first_id": page[0] if page else None,
                "last_id": page[-1] if page else None,
                "has_more": len(newest_first) > limit,
            }
        )

    def _cancel(self, request: Request) -> Response:
        """A batch not ended goes `cancelling`, then `cancelled` with what it had run."""
        batch_id = request.path.split("/")[-2]
        if batch_id not in self.batches:
            return reply({"error": {"message": "No such batch.", "code": None}}, 404)
        batch = self.batches[batch_id]
        self.cancelled.append(batch_id)
        if batch["status"] not in ("completed", "failed", "expired", "cancelled"):
            batch["status"] = "cancelling"
            batch["progress"] = itertools.repeat("cancelled")
        return reply(self._batch(batch_id, batch["status"]))

    def _get(self, request: Request) -> Response:
        batch_id = request.path.rsplit("/", 1)[-1]
        if batch_id not in self.batches:
            return reply({"error": {"message": "No such batch.", "code": None}}, 404)
        status = self.batches[batch_id]["status"] = next(self.batches[batch_id]["progress"])
        body = self._batch(batch_id, status)
        if status in ("completed", "expired", "cancelled"):
            body.update(self._results(batch_id, status))
        if status == "failed":
            body["errors"] = {
                "object": "list",
                "data": [{"code": "invalid_request", "message": "The input file is invalid."}],
            }
        return reply(body)

    def _batch(self, batch_id: str, status: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        body = fixture(
            "openai_batch/batch",
            batch_id=batch_id,
            input_file_id=batch["input_file_id"],
            status=status,
        )
        return body | {"metadata": batch["metadata"], "created_at": batch["created_at"]}

    def _results(self, batch_id: str, status: str) -> dict[str, Any]:
        output, errors = [], []
        for line_number, line in enumerate(self.lines(batch_id)):
            values = {"line": str(line_number), "custom_id": line["custom_id"]}
            prompt = line["body"]["prompt"]
            if status != "completed" and prompt in self.unfinished:
                errors.append(fixture("openai_batch/error_line_expired", **values))
            elif prompt in self.failing:
                errors.append(fixture(f"openai_batch/error_line_{self.failing[prompt]}", **values))
            else:
                output.append(fixture("openai_batch/output_line", image_b64=b64(IMAGE), **values))
        ids: dict[str, Any] = {"output_file_id": None, "error_file_id": None}
        for name, lines in (("output_file_id", output), ("error_file_id", errors)):
            if lines:
                file_id = f"file-{next(self.ids)}"
                self.files[file_id] = "".join(json.dumps(line) + "\n" for line in lines)
                ids[name] = file_id
        counts = {
            "total": len(output) + len(errors),
            "completed": len(output),
            "failed": len(errors),
        }
        return {**ids, "request_counts": counts}

    def _content(self, request: Request) -> Response:
        file_id = request.path.split("/")[-2]
        return Response(self.files[file_id], 200, content_type="application/octet-stream")


OUTPUT_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"


class FakeGeminiBatch(Fake):
    """The Gemini API's Batch Mode with inlined requests: batchGenerateContent answers an
    operation `batches/{id}`, walked through `states`; a succeeded one carries one inlined
    response per request, an error for those whose prompt is in `failing`."""

    def __init__(
        self,
        server: HTTPServer,
        release: threading.Event,
        *,
        states: tuple[str, ...] = (
            "BATCH_STATE_PENDING",
            "BATCH_STATE_RUNNING",
            "BATCH_STATE_SUCCEEDED",
        ),
    ) -> None:
        super().__init__(server, release)
        self.states = states
        self.failing: set[str] = set()
        self.batches: dict[str, dict[str, Any]] = {}
        self.cancelled: list[str] = []
        # The most batches one page of the list holds, whatever `pageSize` asks (tests lower it).
        self.page_limit = 100
        self.on(re.compile(r"^/v1beta/models/[^/]+:batchGenerateContent$"), self._create)
        self.on("/v1beta/batches", self._list, "GET")
        self.on(re.compile(r"^/v1beta/batches/[^/:]+$"), self._get, "GET")
        self.on(re.compile(r"^/v1beta/batches/[^/:]+:cancel$"), self._cancel)

    def env(self) -> dict[str, str]:
        return {"GEMINI_API_KEY": "gemini-test", "GEMINI_BASE_URL": self.url}

    def requests(self, name: str) -> list[dict[str, Any]]:
        """The inlined requests of a batch, as submitted."""
        return self.batches[name]["requests"]

    def _create(self, request: Request) -> Response:
        model = request.path.split("/")[-1].split(":")[0]
        batch = request.get_json()["batch"]
        name = f"batches/b{next(self.ids)}"
        self.batches[name] = {
            "model": model,
            "display_name": batch["displayName"],
            "requests": batch["inputConfig"]["requests"]["requests"],
            "state": "BATCH_STATE_PENDING",
            "progress": itertools.chain(self.states, itertools.repeat(self.states[-1])),
        }
        return reply(self._operation(name, "BATCH_STATE_PENDING"))

    def _list(self, request: Request) -> Response:
        """The project's batches as operations, `pageSize` a page, in the order they were
        made (the API documents none); `nextPageToken` while more are left."""
        names = list(self.batches)
        token = request.args.get("pageToken", "")
        start = 0
        if token:
            if not token.startswith("page-") or not token[5:].isdigit():
                return reply(fixture("gemini_batch/error_invalid_page_token"), 400)
            start = int(token[5:])
        size = min(int(request.args.get("pageSize", 50)), self.page_limit)
        page = names[start : start + size]
        body: dict[str, Any] = {
            "operations": [self._operation(name, self.batches[name]["state"]) for name in page]
        }
        if start + size < len(names):
            body["nextPageToken"] = f"page-{start + size}"
        return reply(body)

    def _cancel(self, request: Request) -> Response:
        """A batch not ended is cancelled (an empty answer, google.protobuf.Empty)."""
        name = request.path.removeprefix("/v1beta/").removesuffix(":cancel")
        if name not in self.batches:
            return reply(fixture("gemini_batch/error_not_found"), 404)
        batch = self.batches[name]
        self.cancelled.append(name)
        if batch["state"] in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"):
            batch["progress"] = itertools.repeat("BATCH_STATE_CANCELLED")
        return reply({})

    def _get(self, request: Request) -> Response:
        name = request.path.removeprefix("/v1beta/")
        if name not in self.batches:
            return reply(fixture("gemini_batch/error_not_found"), 404)
        state = self.batches[name]["state"] = next(self.batches[name]["progress"])
        body = self._operation(name, state)
        if state != "BATCH_STATE_SUCCEEDED":
            if state in ("BATCH_STATE_FAILED", "BATCH_STATE_CANCELLED", "BATCH_STATE_EXPIRED"):
                body["done"] = True
            return reply(body)
        batch = self.batches[name]
        responses = []
        for item in batch["requests"]:
            key = item["metadata"]["key"]
            prompt = item["request"]["contents"][0]["parts"][0]["text"]
            if prompt in self.failing:
                responses.append(fixture("gemini_batch/line_error", key=key))
            else:
                response = fixture(
                    "gemini/generate_image", image_b64=b64(IMAGE), model=batch["model"]
                )
                responses.append({"response": response, "metadata": {"key": key}})
        output = {"inlinedResponses": {"inlinedResponses": responses}}
        body["metadata"]["output"] = output
        body["done"] = True
        body["response"] = {
            "@type": OUTPUT_TYPE,
            **output,
        }
        return reply(body)

    def _operation(self, name: str, state: str) -> dict[str, Any]:
        batch = self.batches[name]
        return fixture(
            "gemini_batch/operation",
            batch_name=name,
            model=batch["model"],
            display_name=batch["display_name"],
            count=str(len(batch["requests"])),
            state=state,
        )


class FakeOpenRouter(Fake):
    """OpenRouter's chat completions, answering image models with data URLs (README:
    openrouter/). `keys` records the bearer key of every call, for the tests of several keys."""

    PATH = "/api/v1/chat/completions"

    def __init__(self, server: HTTPServer, release: threading.Event) -> None:
        super().__init__(server, release)
        self.keys: list[str] = []

    def env(self, key: str = "sk-or-test") -> dict[str, str]:
        return {"OPENROUTER_API_KEY": key, "OPENROUTER_BASE_URL": f"{self.url}/api/v1"}

    def answer(self, name: str = "openrouter/image", status: int = 200) -> Handler:
        def handle(request: Request) -> Response:
            self.keys.append(request.headers.get("Authorization", "").removeprefix("Bearer "))
            body = request.get_json()
            return reply(
                fixture(
                    name,
                    image_b64=b64(IMAGE),
                    model=body["model"],
                    request_id=str(next(self.ids)),
                ),
                status,
            )

        return handle


class FakeVertexProject(Fake):
    """Vertex AI in a project: Google's OAuth token endpoint, which checks the service
    account's signed JWT and hands out bearer tokens, and generateContent under the project's
    path, which takes only a token it handed out (README: vertex/)."""

    TOKEN_PATH = "/token"
    # google-auth signs for Google's own token endpoint whatever the file's token_uri says
    AUDIENCE = "https://oauth2.googleapis.com/token"

    def __init__(self, server: HTTPServer, release: threading.Event, public_pem: bytes) -> None:
        super().__init__(server, release)
        self.public_pem = public_pem
        self.issued: list[str] = []
        self.assertions: list[dict[str, Any]] = []
        self.on(self.TOKEN_PATH, self.token)

    @property
    def token_uri(self) -> str:
        return f"{self.url}{self.TOKEN_PATH}"

    def path(self, model: str, project: str = "arena-prod", location: str = "us-central1") -> str:
        return (
            f"/v1/projects/{project}/locations/{location}/publishers/google/models/"
            f"{model}:generateContent"
        )

    def token(self, request: Request) -> Response:
        if request.form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return reply(fixture("vertex/error_invalid_grant"), 400)
        try:
            claims = jwt.decode(
                request.form["assertion"], certs=self.public_pem, audience=self.AUDIENCE
            )
        except ValueError:
            return reply(fixture("vertex/error_invalid_grant"), 400)
        self.assertions.append(claims)
        self.issued.append(f"ya29.fake-{next(self.ids)}")
        return reply(fixture("vertex/token", token=self.issued[-1]))

    def image(self, model: str) -> Handler:
        def handle(request: Request) -> Response:
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if bearer not in self.issued:
                return reply(fixture("vertex/error_unauthenticated"), 401)
            return reply(fixture("gemini/generate_image", image_b64=b64(IMAGE), model=model))

        return handle
