"""The bare pipeline: the simplest hand-written version of Orderly's path.

A measuring stick for `make bench`, never product code: no auth, validation,
events, idempotency, confirms or retries. See docs/performance.md.
"""
