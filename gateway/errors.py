from __future__ import annotations

from decimal import Decimal

from gateway.types import Attempt, ErrorKind, JobRef


class GatewayError(Exception):
    """A request the gateway could not fulfil.

    `attempts` lists every provider call made before giving up (empty when the request was
    refused before any network call), so the caller can still record metrics and cost.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        attempts: list[Attempt] | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.attempts = list(attempts or [])
        self.http_status = http_status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind.retryable

    @property
    def cost(self) -> Decimal:
        """What the failed request was billed, over all its attempts."""
        return sum((attempt.cost for attempt in self.attempts), Decimal("0"))

    def __repr__(self) -> str:
        return f"GatewayError({self.kind.value!r}, {self.message!r})"


class ProviderError(GatewayError):
    """Raised by a provider adapter for one failed call; the router turns it into an Attempt.

    `cost` is what the provider bills for the failed call where it says (a prompt Gemini
    refused still used input tokens; fal charges for images its safety checker withheld).
    `billed_images` is how many images the provider may charge for although the call failed
    (a job that ran, or may have, before it was given up on), recorded at their catalog
    price. `provider_request_id` is the provider's id of the call, when it gave one.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
        cost: Decimal = Decimal("0"),
        billed_images: int = 0,
        provider_request_id: str = "",
    ) -> None:
        super().__init__(kind, message, http_status=http_status, retry_after=retry_after)
        self.billed = cost
        self.billed_images = billed_images
        self.provider_request_id = provider_request_id

    def of_job(self, provider_request_id: str, *, billed_images: int) -> ProviderError:
        """This error, as the failure of the provider's job of that id."""
        return ProviderError(
            self.kind,
            self.message,
            http_status=self.http_status,
            retry_after=self.retry_after,
            cost=self.billed,
            billed_images=billed_images,
            provider_request_id=provider_request_id,
        )


class RequestRefused(GatewayError):
    """A request refused before any call because no provider of the model could fulfil it (an
    operation the model lacks, a size outside its bounds). `param` names the request's field at
    fault, so a caller that speaks another API can point its own error at that field."""

    def __init__(
        self, kind: ErrorKind, message: str, *, param: str, http_status: int = 400
    ) -> None:
        super().__init__(kind, message, http_status=http_status)
        self.param = param


class JobDetached(Exception):
    """The provider accepted the job and will call our webhook when it ends, so nobody waits
    on it: the caller keeps `job` and collects the images when the webhook comes (or resumes
    the job if it never does)."""

    def __init__(self, job: JobRef) -> None:
        super().__init__(f"{job.provider} job {job.job_id} will report to the webhook.")
        self.job = job
