"""What the client raises."""

from __future__ import annotations

from orderly_client.models import Job, Problem


class OrderlyError(Exception):
    """Base class of every error this package raises."""


class ProblemError(OrderlyError):
    """The API answered with an error (problem+json) the client does not retry."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.status} {problem.title}: {problem.detail}")
        self.problem = problem
        self.status = problem.status


class GaveUp(OrderlyError):
    """Retries ran out (connection errors, 429 or 503); `__cause__` or `problem` says why."""

    def __init__(self, message: str, problem: Problem | None = None) -> None:
        super().__init__(message)
        self.problem = problem


class JobTimeout(OrderlyError):
    """The job did not finish within the time given to `wait`; `job` is how it stood."""

    def __init__(self, job: Job, timeout: float) -> None:
        super().__init__(f"job {job.id} still {job.status} after {timeout:g} s")
        self.job = job


class InvalidSignature(OrderlyError):
    """A webhook delivery whose signature or timestamp does not check out."""
