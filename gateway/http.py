"""HTTP plumbing the remote providers share: the client, the call deadline, error kinds, images."""

from __future__ import annotations

import base64
import binascii
import email.utils
import io
import random
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import httpx
from PIL import Image

from gateway.errors import ProviderError
from gateway.types import ErrorKind

DEFAULT_TIMEOUT_SECONDS = 180.0
CONNECT_TIMEOUT_SECONDS = 10.0
# Transient errors on a job's status polls retried per request (fal-client and
# replicate-python both allow 10 attempts of a GET), each after a backoff that doubles from
# 0.1 s up to 30 s unless the provider's Retry-After says how long.
DEFAULT_POLL_RETRIES = 10
BACKOFF_FIRST_SECONDS = 0.1
BACKOFF_LONGEST_SECONDS = 30.0
# fal-client retries 408, 409, 429 and its ingress's 502-504; replicate-python 429, 503 and
# 504. A status poll changes nothing, so any 5xx is as safe to repeat.
RETRIED_STATUSES = frozenset({408, 409, 425, 429})
# Cancelling is worth a moment even once the deadline is gone: it is what stops the bill.
CANCEL_TIMEOUT_SECONDS = 2.0
# The worker runs 32 threads in one process and each may fan a request out into parallel calls
# and downloads: a pool near that size would make calls queue behind each other for a socket.
POOL_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=30)


def timeout_from_env(environ: Mapping[str, str]) -> float:
    value = environ.get("GATEWAY_TIMEOUT_SECONDS")
    return float(value) if value else DEFAULT_TIMEOUT_SECONDS


def build_client(*, timeout: float, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT_SECONDS, timeout)),
        limits=POOL_LIMITS,
        transport=transport,
        headers={"User-Agent": "image-arena-gateway"},
    )


class RetryBudget:
    """How many transient errors one request may still retry, shared by all its calls."""

    def __init__(self, retries: int = DEFAULT_POLL_RETRIES) -> None:
        self._left = retries
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True


@dataclass(frozen=True, slots=True)
class Deadline:
    """The time budget of a request, or of one provider call within it.

    httpx's timeouts apply to each network operation; a queue polled for minutes would never
    trip them. Every request of a call (submit, polls, downloads) gets what is left of this.
    """

    seconds: float
    started: float = field(default_factory=time.perf_counter)
    retries: RetryBudget = field(default_factory=RetryBudget, compare=False)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def left(self) -> float:
        return max(0.0, self.seconds - (time.perf_counter() - self.started))

    def remaining(self) -> float:
        left = self.left()
        if left <= 0:
            raise ProviderError(ErrorKind.TIMEOUT, f"No result within {self.seconds:g} s.")
        return left

    def share(self, seconds: float) -> Deadline:
        """A budget of `seconds` from now (at most what is left), with this one's retries."""
        return Deadline(min(seconds, self.left()), retries=self.retries)

    def timeout(self) -> httpx.Timeout:
        left = self.remaining()
        return httpx.Timeout(left, connect=min(CONNECT_TIMEOUT_SECONDS, left))

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, self.remaining()))


@dataclass(frozen=True, slots=True)
class Reply:
    response: httpx.Response
    ttfb_ms: float  # from the start of the provider call to this response's headers


def send(client: httpx.Client, method: str, url: str, deadline: Deadline, **kwargs: Any) -> Reply:
    """One request within the call's deadline, with transport failures turned into kinds."""
    with streamed(client, method, url, deadline, **kwargs) as reply:
        reply.response.read()
    return reply


@contextmanager
def streamed(
    client: httpx.Client, method: str, url: str, deadline: Deadline, **kwargs: Any
) -> Iterator[Reply]:
    """One request within the call's deadline, its body left to be read as it arrives
    (server-sent events), with transport failures, while it is sent or read, turned into
    kinds."""
    request = client.build_request(method, url, timeout=deadline.timeout(), **kwargs)
    where = f"{method} {request.url.copy_with(query=None)}"
    try:
        response = client.send(request, stream=True)
        try:
            yield Reply(response, deadline.elapsed_ms())
        finally:
            response.close()
    except httpx.TimeoutException as exc:
        raise ProviderError(
            ErrorKind.TIMEOUT,
            f"{where}: no answer within the {deadline.seconds:g} s budget ({type(exc).__name__}).",
        ) from None
    except httpx.TransportError as exc:
        raise ProviderError(
            ErrorKind.CONNECTION, f"{where}: {type(exc).__name__}: {exc}"
        ) from None


def server_sent_events(response: httpx.Response, deadline: Deadline) -> Iterator[tuple[str, str]]:
    """(event, data) of each server-sent event as it arrives (html.spec.whatwg.org, "Server-sent
    events": `event:` and `data:` lines, a blank line ends an event, `:` starts a comment);
    the deadline is checked between events, as httpx's own timeout is per read."""
    event = ""
    data: list[str] = []
    for line in response.iter_lines():
        if not line:
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", []
            deadline.remaining()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield event or "message", "\n".join(data)


def get_retrying(
    client: httpx.Client, url: str, deadline: Deadline, *, headers: dict[str, str]
) -> Reply:
    """GET a job's status or result, retrying a 408, 409, 425, 429, 5xx or lost connection
    after a backoff (the answer's Retry-After when it gives one), as fal-client's
    `_maybe_retry_request` and replicate-python's `RetryTransport` do, while the request's
    deadline and retry budget allow. The last answer is returned whatever its status; a
    connection still failing is raised."""
    tries = 0
    while True:
        tries += 1
        try:
            reply = send(client, "GET", url, deadline, headers=headers)
        except ProviderError as exc:
            if exc.kind is ErrorKind.CONNECTION and _paused(deadline, tries, None):
                continue
            raise
        status = reply.response.status_code
        if (status in RETRIED_STATUSES or status >= 500) and _paused(
            deadline, tries, retry_after(reply.response.headers)
        ):
            continue
        return reply


def _paused(deadline: Deadline, tries: int, wait: float | None) -> bool:
    """Sleep before another try and say so; or say there is none, when the pause would outlast
    the deadline or the request's retries are spent."""
    if wait is None:
        wait = min(BACKOFF_FIRST_SECONDS * 2 ** (tries - 1), BACKOFF_LONGEST_SECONDS)
        wait *= random.uniform(0.5, 1.5)  # jitter, so parallel calls do not retry in step
    if wait >= deadline.left() or not deadline.retries.take():
        return False
    deadline.sleep(wait)
    return True


def cancel(client: httpx.Client, method: str, url: str, headers: dict[str, str]) -> str | None:
    """Ask the provider to cancel a job we give up on; the `status` its answer gives (fal's
    and Replicate's both carry one), or None when it did not accept or did not say."""
    try:
        response = client.request(method, url, headers=headers, timeout=CANCEL_TIMEOUT_SECONDS)
        answer = response.json() if response.is_success else None
    except (httpx.HTTPError, ValueError):
        return None
    status = answer.get("status") if isinstance(answer, dict) else None
    return status if isinstance(status, str) else None


def status_kind(status: int) -> ErrorKind:
    if status == 429:
        return ErrorKind.RATE_LIMITED
    if status in (401, 403):
        return ErrorKind.AUTH
    if status == 408:
        return ErrorKind.TIMEOUT
    if status >= 500:
        return ErrorKind.SERVER_ERROR
    return ErrorKind.INVALID_REQUEST


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait, from a Retry-After header in either of its two forms."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def failure(
    response: httpx.Response,
    message: str,
    kind: ErrorKind | None = None,
    *,
    wait: float | None = None,
) -> ProviderError:
    """The error for a non-2xx answer; `kind` overrides what the status code alone says."""
    return ProviderError(
        kind or status_kind(response.status_code),
        message or f"HTTP {response.status_code}: {response.text[:300]}",
        http_status=response.status_code,
        retry_after=retry_after(response.headers) if wait is None else wait,
        provider_request_id=response.headers.get("x-request-id", ""),
    )


def json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ProviderError(
            ErrorKind.BAD_RESPONSE,
            f"Expected JSON, got {response.headers.get('content-type', 'no content type')}: "
            f"{response.text[:200]!r}",
            http_status=response.status_code,
        ) from None


def image_mime(data: bytes) -> str | None:
    """The MIME type of an image file, or None when the bytes are not a readable image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            return Image.MIME.get(image.format or "")
    # Pillow reports an unreadable file with several unrelated exception types.
    except Exception:
        return None


def checked_image(data: bytes, source: str) -> bytes:
    if image_mime(data) is None:
        raise ProviderError(
            ErrorKind.BAD_RESPONSE,
            f"{source} is not an image ({len(data)} bytes starting {data[:12]!r}).",
        )
    return data


def decode_base64(text: str, source: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProviderError(ErrorKind.BAD_RESPONSE, f"{source} is not valid base64.") from None


def data_uri(data: bytes) -> str:
    """A source image as the `data:` URI that fal and Replicate accept in place of a URL."""
    mime = image_mime(data) or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def fetch_image(client: httpx.Client, url: str, deadline: Deadline) -> bytes:
    if url.startswith("data:"):
        _, _, payload = url.partition(",")
        return checked_image(decode_base64(payload, "A data URI image"), "A data URI image")
    reply = send(client, "GET", url, deadline)
    status = reply.response.status_code
    if status >= 400:
        # The images exist but cannot be had from here: worth another provider, not a stop.
        kind = status_kind(status) if status == 429 or status >= 500 else ErrorKind.BAD_RESPONSE
        raise failure(reply.response, f"Downloading {url} failed with HTTP {status}.", kind)
    return checked_image(reply.response.content, f"The file at {url}")


def fetch_images(client: httpx.Client, urls: list[str], deadline: Deadline) -> list[bytes]:
    if len(urls) <= 1:
        return [fetch_image(client, url, deadline) for url in urls]
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(lambda url: fetch_image(client, url, deadline), urls))


class ClientOwner:
    """Something that owns an httpx client: closed with `close()` or as a context manager."""

    client: httpx.Client

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
