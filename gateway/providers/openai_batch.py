"""OpenAI's Batch API for image generation: the requests go up as a JSONL file (purpose
"batch"), a batch runs them against /v1/images/generations within 24 hours, and its output and
error files come back as JSONL, one line per request, matched by `custom_id`.

The images endpoints are among the batch endpoints openai-python lists
(src/openai/types/batch_create_params.py: "/v1/images/generations", "/v1/images/edits").
Each batch carries our label in its `metadata`, which GET /v1/batches lists, so a submission
that died before it heard the batch's id can find the batch again instead of paying twice.
Wire format: tests/gateway/fakes/openai_batch/ (with the documentation it follows).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx

from gateway.catalog import OfferingSpec
from gateway.errors import ProviderError
from gateway.http import Deadline, failure, json_of, send
from gateway.normalize import ParamTable
from gateway.providers.batchbase import (
    BatchState,
    HTTPBatchClient,
    LineOutcome,
    ProviderPoll,
    line_outcome,
)
from gateway.providers.openai import OpenAIProvider, error_kind, request_fields, response_images
from gateway.types import ErrorKind, ImageRequest, Operation

ENDPOINT = "/v1/images/generations"
# The metadata key that holds our label (metadata: up to 16 pairs, keys up to 64 characters,
# values up to 512; openai-python src/openai/types/batch.py).
LABEL_KEY = "arena_batch"
# Batches per page of GET /v1/batches: the most `limit` takes (1 to 100).
LIST_LIMIT = 100

STATES = {
    "validating": BatchState.RUNNING,
    "in_progress": BatchState.RUNNING,
    "finalizing": BatchState.RUNNING,
    "cancelling": BatchState.RUNNING,
    "completed": BatchState.COMPLETED,
    "failed": BatchState.FAILED,
    "expired": BatchState.EXPIRED,
    "cancelled": BatchState.CANCELLED,
}


class OpenAIBatchClient(HTTPBatchClient):
    params: ClassVar[ParamTable] = OpenAIProvider.params
    extra_params: ClassVar[frozenset[str]] = OpenAIProvider.extra_params

    def run_submit(
        self,
        offering: OfferingSpec,
        requests: Mapping[str, ImageRequest],
        label: str,
        deadline: Deadline,
    ) -> str:
        lines = [
            {
                "custom_id": key,
                "method": "POST",
                "url": ENDPOINT,
                "body": request_fields(offering, request, Operation.GENERATE)[0],
            }
            for key, request in requests.items()
        ]
        jsonl = "".join(json.dumps(line) + "\n" for line in lines).encode()
        upload = self._json(
            "POST",
            "/files",
            deadline,
            data={"purpose": "batch"},
            files={"file": (f"arena-batch-{label}.jsonl", jsonl, "application/jsonl")},
        )
        batch = self._json(
            "POST",
            "/batches",
            deadline,
            json={
                "input_file_id": upload["id"],
                "endpoint": ENDPOINT,
                "completion_window": "24h",
                "metadata": {"source": "image-arena", LABEL_KEY: label},
            },
        )
        return str(batch["id"])

    def run_find(
        self, offering: OfferingSpec, label: str, since: datetime, deadline: Deadline
    ) -> str | None:
        params: dict[str, str | int] = {"limit": LIST_LIMIT}
        while True:
            page = self._json("GET", "/batches", deadline, params=params)
            batches = page.get("data") or []
            for batch in batches:
                if (batch.get("metadata") or {}).get(LABEL_KEY) == label:
                    return str(batch["id"])
            # The list runs newest first: a page made wholly before `since` has nothing of
            # ours after it. The next page starts after the last id (SyncCursorPage).
            older = all(int(batch.get("created_at") or 0) < since.timestamp() for batch in batches)
            if not batches or not page.get("has_more") or older:
                return None
            params = {"limit": LIST_LIMIT, "after": str(batches[-1]["id"])}

    def run_cancel(self, offering: OfferingSpec, batch_id: str, deadline: Deadline) -> None:
        self._json("POST", f"/batches/{batch_id}/cancel", deadline)

    def run_poll(
        self, offering: OfferingSpec, batch_id: str, keys: Sequence[str], deadline: Deadline
    ) -> ProviderPoll:
        batch = self._json("GET", f"/batches/{batch_id}", deadline)
        state = STATES.get(str(batch.get("status")))
        if state is None:
            raise ProviderError(
                ErrorKind.BAD_RESPONSE, f"OpenAI batch status {batch.get('status')!r} is unknown."
            )
        if not state.ended:
            return ProviderPoll(state=state)
        # Expired and cancelled batches keep the lines that ran in the output file; the rest
        # are in the error file (code "batch_expired", "batch_cancelled").
        lines: dict[str, LineOutcome] = {}
        for file_id in (batch.get("output_file_id"), batch.get("error_file_id")):
            if file_id:
                lines.update(self._lines(file_id, deadline))
        errors = (batch.get("errors") or {}).get("data") or []
        message = "; ".join(str(error.get("message") or error) for error in errors)
        return ProviderPoll(state=state, lines=lines, error=message)

    def _lines(self, file_id: str, deadline: Deadline) -> dict[str, LineOutcome]:
        reply = send(
            self.client,
            "GET",
            f"{self.base_url}/files/{file_id}/content",
            deadline,
            **self._auth(),
        )
        if reply.response.is_error:
            raise _failure(reply.response)
        lines = {}
        for text in reply.response.text.splitlines():
            try:
                line = json.loads(text)
                key = str(line["custom_id"])
            # A line without its custom_id names no request: its request counts as not run.
            except (ValueError, TypeError, KeyError):
                continue
            lines[key] = line_outcome(read_line, line, "OpenAI's batch")
        return lines

    def _json(self, method: str, path: str, deadline: Deadline, **kwargs: Any) -> Any:
        reply = send(
            self.client, method, f"{self.base_url}{path}", deadline, **kwargs, **self._auth()
        )
        if reply.response.is_error:
            raise _failure(reply.response)
        return json_of(reply.response)

    def _auth(self) -> dict[str, Any]:
        return {"headers": {"Authorization": f"Bearer {self.api_key}"}}


def read_line(line: Mapping[str, Any]) -> LineOutcome:
    """One line of an output or error file: the response the endpoint gave, or the batch's own
    error for a request that never reached it."""
    response = line.get("response") or {}
    status = response.get("status_code")
    if status == 200:
        images = response_images(response.get("body") or {})
        if not images:
            raise ProviderError(ErrorKind.EMPTY, "OpenAI batch line: no image in `data`.")
        return LineOutcome(images=images)
    error = line.get("error") or (response.get("body") or {}).get("error") or {}
    code = error.get("code")
    kind = error_kind(code)
    if kind is None:
        kind = ErrorKind.TIMEOUT if code == "batch_expired" else ErrorKind.SERVER_ERROR
        if isinstance(status, int) and 400 <= status < 500 and status != 429:
            kind = ErrorKind.INVALID_REQUEST
        elif status == 429:
            kind = ErrorKind.RATE_LIMITED
    message = str(error.get("message") or code or f"HTTP {status}")
    return LineOutcome(
        error=ProviderError(
            kind,
            f"OpenAI batch line: {message}",
            http_status=status if isinstance(status, int) else None,
        )
    )


def _failure(response: httpx.Response) -> ProviderError:
    try:
        error = response.json()["error"]
        message = str(error.get("message") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        message = response.text[:300]
    return failure(response, f"OpenAI batch HTTP {response.status_code}: {message}")
