"""What every log line of a request or a job carries: the request id.

The web shell sets it at the start of each request (from a trusted ``X-Request-ID`` or a new
one); a job sets it from the id its request enqueued it with, so one action can be followed from
the page into the worker.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
