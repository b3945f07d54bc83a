"""A typed client for the Orderly API (see client/README.md)."""

from orderly_client.client import Client
from orderly_client.errors import GaveUp, InvalidSignature, JobTimeout, OrderlyError, ProblemError
from orderly_client.models import Item, Job, JobError, Order, Page, Problem
from orderly_client.retrying import RetryPolicy
from orderly_client.webhooks import SIGNATURE_HEADER, sign, verify_signature

__all__ = [
    "SIGNATURE_HEADER",
    "Client",
    "GaveUp",
    "InvalidSignature",
    "Item",
    "Job",
    "JobError",
    "JobTimeout",
    "Order",
    "OrderlyError",
    "Page",
    "Problem",
    "ProblemError",
    "RetryPolicy",
    "sign",
    "verify_signature",
]
