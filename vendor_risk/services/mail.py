"""Email: one function queues a message in the outbox, in the caller's transaction.

Nothing is sent inside the request that caused an email, and a mail server that is down never
undoes it: :func:`send_mail` only adds a queued row, which the outbox worker
(``services/outbox.py``, ``flask --app app outbox send``) sends later, with retries. The body
is held in the database until it is sent (it may carry an invitation link): once the SMTP
server accepted it, the body is replaced by "(not kept)", since a token must then exist only in
the message. Without SMTP settings, in development, the worker logs the message (logger
``vendor_risk.mail``) and keeps it whole in the outbox; in production it marks it failed
rather than log it, since logs must never hold a token.

This module also builds what an email needs: links on the configured address, bodies from
templates, the message itself and the SMTP conversation the worker uses.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import Flask, current_app
from sqlalchemy.orm import Session

from .. import config
from ..db import request_job, utcnow
from ..models import OutboxMessage, OutboxStatus

log = logging.getLogger("vendor_risk.mail")

NOT_KEPT = "(not kept)"
NO_SMTP_IN_PRODUCTION = "not sent: no SMTP server is configured (set VR_SMTP_HOST)"
SUBJECT_MAX = 300


def init_app(app: Flask) -> None:
    """In development, make the log show each email kept without SMTP: ``vendor_risk.mail`` is
    a child of the app's logger (``app.logger``, whose handler writes to standard error), but
    Python's loggers pass only warnings by default, so the INFO record was dropped. A level an
    operator set already (logging configuration, gunicorn) is left alone. In production no
    body is ever logged: the level does not matter there."""
    if app.config["ENV"] == "production":
        return
    app.logger  # noqa: B018 (Flask adds its standard-error handler when nothing else handles the app's logs)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)


def smtp_configured() -> bool:
    return bool(current_app.config["SMTP_HOST"])


def one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """Header text on one line: a vendor's name typed with a line break must not end the
    Subject header (email header injection) nor break the message."""
    return " ".join(text.split())[:limit]


def absolute_url(endpoint: str, **values) -> str:
    """A link for an email, built on the configured address only (``config.base_url``):
    never on the request's Host or X-Forwarded-Host, which whoever sends the request writes.
    The same link whether a page or a command sends the email."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return config.base_url(current_app.config) + path


def render_body(template: str, **context) -> str:
    """A plain-text body from templates/email/ (``.txt``: Jinja does not HTML-escape it).
    Rendered without the pages' context processors, which need a signed-in request: the
    reminders are sent by a command."""
    body = current_app.jinja_env.get_template(f"email/{template}").render(**context)
    return body.strip() + "\n"


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(cfg["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message.set_content(body)
    return message


def smtp_send(message: EmailMessage) -> None:
    cfg = current_app.config
    host, port, timeout = cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), float(cfg["SMTP_TIMEOUT"])
    context = ssl.create_default_context()
    if cfg["SMTP_SECURITY"] == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if cfg["SMTP_SECURITY"] == "starttls":
            client.starttls(context=context)
        if cfg["SMTP_USERNAME"]:
            client.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
        client.send_message(message)


def error_text(exc: Exception) -> str:
    detail = str(exc) or "no detail"
    return f"{type(exc).__name__}: {detail}"[:1000]


def send_mail(
    session: Session, *, to: str, subject: str, body: str, sender_id: int | None = None
) -> OutboxMessage:
    """Queue one message in the outbox, in the caller's transaction: the outbox worker sends
    it once that transaction commits (and nothing is sent if it rolls back). ``sender_id``
    is the user whose action caused the email (None for a command): they see it on their
    Emails page. The body is held in the database until it is sent."""
    record = OutboxMessage(
        recipient=to,
        subject=one_line(subject),
        body=body,
        status=OutboxStatus.queued,
        sender_id=sender_id,
        next_attempt_at=utcnow(),
    )
    session.add(record)
    session.flush()
    request_job(session, "outbox.deliver")  # a worker sends it as soon as this commits
    log.info("email to %s queued: %s", to, record.subject)
    return record


def delivered(message: OutboxMessage) -> bool:
    """Anything but a failure for good: queued, sent, or kept in the development outbox."""
    return message.status is not OutboxStatus.failed
