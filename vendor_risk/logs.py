"""What every log line of a request or a job carries, and what it never carries.

- The request id: the web shell sets :data:`request_id` at the start of each request (from a
  trusted ``X-Request-ID`` or a new one); a job sets it from the id its request enqueued it
  with, so one action can be followed from the page into the worker.
- No secret: :class:`MaskSecrets` sits on the one handler :func:`install` puts on the root
  logger, so whatever logger emits a line (ours, Flask's, werkzeug's request log, a library's),
  invitation tokens, signed links, ``token=`` values and passwords in URLs are masked before
  the line is written.
- The format: ``text`` for a person reading a terminal, ``json`` (one object per line) for a
  log collector (``VR_LOG_FORMAT``).

JSON is written with the standard library's ``json``: a formatter is twenty lines, and the
fields (and the masking of every one of them) stay ours, where python-json-logger would add a
dependency for the same dictionary.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# An X-Request-ID from a proxy is taken only in this shape: anything else (too long, a newline
# that would forge a log line, markup) is replaced by an id of our own.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
MASK = "[masked]"


def new_request_id() -> str:
    return secrets.token_hex(8)


def accepted_request_id(incoming: str | None) -> str:
    """``incoming`` when it is a safe id, else a new one."""
    if incoming and SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return new_request_id()


# ---- masking --------------------------------------------------------------------------------

_URL_SAFE = r"A-Za-z0-9_\-"
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # An invitation link (/invite/<token>) and an address change's link (/auth/email/<token>):
    # the path is the credential.
    (re.compile(r"(/invite/)[^/\s?#\"'<>]+"), r"\1" + MASK),
    (re.compile(r"(/auth/email/)[^/\s?#\"'<>]+"), r"\1" + MASK),
    # A query or form value whose name says it is a secret: ?token=..., &password=...
    (
        re.compile(
            r"(?i)((?<![\w.-])(?:[\w.-]*(?:token|password|passwd|secret|signature|assertion|"
            r"api_?key)[\w.-]*|code|key|otp|state|session|sig)=)[^&\s\"'<>;,]+"
        ),
        r"\1" + MASK,
    ),
    # Signed tokens: itsdangerous (an address change, a reset) and JWTs (single sign-on), both
    # base64url JSON ("eyJ") followed by dot-separated parts.
    (re.compile(rf"eyJ[{_URL_SAFE}]*\.[{_URL_SAFE}.]+"), MASK),
    # A password in a URL: scheme://user:password@host.
    (re.compile(r"(://[^:/\s@]*:)[^@\s/]+@"), r"\1" + MASK + "@"),
    # Authorization: Bearer <token>
    (re.compile(r"(?i)(bearer\s+)[^\s\"']+"), r"\1" + MASK),
    # An invitation token alone (secrets.token_urlsafe(32): 43 base64url characters), as a job
    # or a library might write it.
    (re.compile(rf"(?<![{_URL_SAFE}])[{_URL_SAFE}]{{43}}(?![{_URL_SAFE}])"), MASK),
)


def mask_secrets(text: str) -> str:
    """``text`` with every token, signed link and password it holds replaced by [masked]."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# The attributes every LogRecord has; anything else on a record came as ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


class MaskSecrets(logging.Filter):
    """On the handler: the message (with its arguments), the traceback and every extra text
    field of a record, masked. Returns True: masking never drops a line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, key, mask_secrets(value))
        return True


class RequestIdFilter(logging.Filter):
    """Every record gets ``request_id``: the request's (or the job's), else "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


# ---- formats --------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id,
    the fields given as ``extra=`` and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _ANSI_STYLE.sub("", record.getMessage()),
            "request_id": getattr(record, "request_id", None) or "-",
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


# The development server colours its request lines for a terminal: not in a JSON field.
_ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
FORMATTERS = {
    "text": lambda: logging.Formatter(TEXT_FORMAT),
    "json": JsonFormatter,
}


class AppHandler(logging.StreamHandler):
    """The handler :func:`install` owns (told apart from the handlers of pytest, gunicorn...)."""


class _StandardError:
    """Standard error as it is when a line is written, not when the handler was made (a test
    runner or a daemon may replace ``sys.stderr`` meanwhile)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def install(log_format: str, stream=None) -> logging.Handler:
    """Put the app's one handler on the root logger (replacing an earlier one of ours, so
    building several apps in one process never doubles a line): standard error by default,
    the request id on every record, secrets masked, the format chosen. Our loggers log INFO."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, AppHandler):
            root.removeHandler(handler)
    handler = AppHandler(stream or _StandardError())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(MaskSecrets())
    handler.setFormatter(FORMATTERS[log_format]())
    root.addHandler(handler)
    # Flask's own handler, had the app's logger been made before ours was there: one line each.
    app_logger = logging.getLogger("vendor_risk")
    for extra in [h for h in app_logger.handlers if type(h) is logging.StreamHandler]:
        app_logger.removeHandler(extra)
    for name in ("vendor_risk", "werkzeug", "alembic"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
    return handler
