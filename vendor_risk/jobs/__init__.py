"""Background work on a queue (huey: SQLite by default, Redis when ``VR_QUEUE_URL`` says so):
the jobs, the workers that run them, and what the rest of the app uses of them. docs/jobs.md
tells the whole story.

A face like ``web`` and ``cli``, which may use it: services never do, they ask for a job with
``db.request_job(session, name, *ids)`` and it is enqueued once their transaction commits.
"""

from __future__ import annotations

from .queue import EXTENSION, JobQueue, init_app, queue_of, readiness
from .tasks import BY_NAME, JOBS, Job

__all__ = ["BY_NAME", "EXTENSION", "JOBS", "Job", "JobQueue", "init_app", "queue_of", "readiness"]
