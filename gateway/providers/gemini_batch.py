"""The Gemini API's Batch Mode with inlined requests: `models/{model}:batchGenerateContent`
takes GenerateContentRequests with a metadata key each and answers with a long-running
operation named `batches/{id}`; polling it gives the batch's state and, once it succeeded,
`output.inlinedResponses.inlinedResponses`, one response or error per request.

Inlined requests suit batches up to 20 MB (ai.google.dev/gemini-api/docs/batch-mode), ample
for text prompts. Field names follow google-genai's batches.py (_BatchJobSource_to_mldev,
_InlinedRequest_to_mldev, _BatchJob_from_mldev, _BatchJobDestination_from_mldev).
Each batch's `displayName` carries our label; `batches` lists them (batches.list,
_ListBatchJobsResponse_from_mldev: `operations`, `nextPageToken`), so a submission that died
before it heard the batch's name can find the batch again instead of paying twice.
Vertex AI's batch prediction jobs read from Cloud Storage or BigQuery and are not spoken here.
Wire format: tests/gateway/fakes/gemini_batch/.
"""

from __future__ import annotations

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
from gateway.providers.gemini import GeminiProvider, request_body, response_images
from gateway.types import ErrorKind, ImageRequest

STATES = {
    "BATCH_STATE_PENDING": BatchState.RUNNING,
    "BATCH_STATE_RUNNING": BatchState.RUNNING,
    "BATCH_STATE_SUCCEEDED": BatchState.COMPLETED,
    "BATCH_STATE_FAILED": BatchState.FAILED,
    "BATCH_STATE_CANCELLED": BatchState.CANCELLED,
    "BATCH_STATE_EXPIRED": BatchState.EXPIRED,
}

# google.rpc codes of a line's error: the ones worth asking again, directly.
RETRYABLE_CODES = {
    4: ErrorKind.TIMEOUT,
    8: ErrorKind.RATE_LIMITED,
    13: ErrorKind.SERVER_ERROR,
    14: ErrorKind.SERVER_ERROR,
}


# Batches per page of GET batches (`pageSize`; the service may answer fewer).
LIST_PAGE_SIZE = 100


def display_name(offering: OfferingSpec, label: str) -> str:
    """The name a batch is shown by in AI Studio and found by again: the model and our label."""
    return f"image-arena {offering.model} {label}"


class GeminiBatchClient(HTTPBatchClient):
    params: ClassVar[ParamTable] = GeminiProvider.params
    extra_params: ClassVar[frozenset[str]] = GeminiProvider.extra_params

    def run_submit(
        self,
        offering: OfferingSpec,
        requests: Mapping[str, ImageRequest],
        label: str,
        deadline: Deadline,
    ) -> str:
        inlined = [
            {"request": request_body(offering, request)[0], "metadata": {"key": key}}
            for key, request in requests.items()
        ]
        body = {
            "batch": {
                "displayName": display_name(offering, label),
                "inputConfig": {"requests": {"requests": inlined}},
            }
        }
        operation = self._json(
            "POST",
            f"v1beta/models/{offering.provider_model}:batchGenerateContent",
            deadline,
            json=body,
        )
        return str(operation["name"])

    def run_find(
        self, offering: OfferingSpec, label: str, since: datetime, deadline: Deadline
    ) -> str | None:
        # The list's order is not documented: every page is read (`since` cannot end it early).
        wanted = display_name(offering, label)
        params: dict[str, str | int] = {"pageSize": LIST_PAGE_SIZE}
        while True:
            page = self._json("GET", "v1beta/batches", deadline, params=params)
            for operation in page.get("operations") or []:
                if (operation.get("metadata") or {}).get("displayName") == wanted:
                    return str(operation["name"])
            if not page.get("nextPageToken"):
                return None
            params = {"pageSize": LIST_PAGE_SIZE, "pageToken": str(page["nextPageToken"])}

    def run_cancel(self, offering: OfferingSpec, batch_id: str, deadline: Deadline) -> None:
        self._json("POST", f"v1beta/{batch_id}:cancel", deadline, json={})

    def run_poll(
        self, offering: OfferingSpec, batch_id: str, keys: Sequence[str], deadline: Deadline
    ) -> ProviderPoll:
        operation = self._json("GET", f"v1beta/{batch_id}", deadline)
        metadata = operation.get("metadata") or {}
        state = STATES.get(str(metadata.get("state")))
        if state is None:
            raise ProviderError(
                ErrorKind.BAD_RESPONSE, f"Gemini batch state {metadata.get('state')!r} is unknown."
            )
        if not state.ended:
            return ProviderPoll(state=state)
        output = metadata.get("output") or operation.get("response") or {}
        responses = (output.get("inlinedResponses") or {}).get("inlinedResponses") or []
        lines: dict[str, LineOutcome] = {}
        for index, item in enumerate(responses):
            # Each response carries its request's metadata; by position where it does not.
            metadata = item.get("metadata") if isinstance(item, dict) else None
            key = metadata.get("key") if isinstance(metadata, dict) else None
            if key is None and index < len(keys):
                key = keys[index]
            if key is not None:
                lines[str(key)] = line_outcome(
                    lambda item: read_line(offering.provider_model, item), item, "Gemini's batch"
                )
        error = operation.get("error") or {}
        return ProviderPoll(state=state, lines=lines, error=str(error.get("message") or ""))

    def _json(self, method: str, path: str, deadline: Deadline, **kwargs: Any) -> Any:
        reply = send(
            self.client,
            method,
            f"{self.base_url}/{path}",
            deadline,
            **kwargs,
            headers={"x-goog-api-key": self.api_key},
        )
        if reply.response.is_error:
            raise _failure(reply.response)
        return json_of(reply.response)


def read_line(model: str, item: Mapping[str, Any]) -> LineOutcome:
    """One inlined response: the images of its GenerateContentResponse, or its error."""
    if item.get("response") is not None:
        return LineOutcome(images=response_images(model, item["response"]))
    error = item.get("error") or {}
    code = error.get("code")
    kind = RETRYABLE_CODES.get(code, ErrorKind.INVALID_REQUEST) if isinstance(code, int) else None
    return LineOutcome(
        error=ProviderError(
            kind or ErrorKind.SERVER_ERROR,
            f"Gemini batch line: {error.get('message') or 'no response and no error'}",
        )
    )


def _failure(response: httpx.Response) -> ProviderError:
    try:
        message = str(response.json()["error"].get("message") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        message = response.text[:300]
    return failure(response, f"Gemini batch HTTP {response.status_code}: {message}")
