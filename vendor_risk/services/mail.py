"""Email: one function sends a message and records it in the outbox.

With SMTP settings (``SMTP_HOST``) the message goes out through smtplib and the outbox keeps
when and to whom, never the body: an invitation carries a link whose token must exist only in
the message. Without them, in development, the message is logged (logger ``vendor_risk.mail``)
and kept whole in the outbox, where an admin reads it; in production it is recorded as not sent
rather than logged, since logs must never hold a token.

A failed send never raises: the error is recorded on the outbox message and the caller tells
the user, whose request is saved anyway and can be sent again.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from .. import config
from ..db import utcnow
from ..models import OutboxMessage
from .pages import Page, one_page

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


def _message(to: str, subject: str, body: str) -> EmailMessage:
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


def _smtp_send(message: EmailMessage) -> None:
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


def _error_text(exc: Exception) -> str:
    detail = str(exc) or "no detail"
    return f"{type(exc).__name__}: {detail}"[:1000]


def send_mail(session: Session, *, to: str, subject: str, body: str) -> OutboxMessage:
    """Send one message (or, without SMTP in development, log it) and record it in the outbox
    in the caller's transaction. Check ``delivered(message)``: a failure is recorded, not
    raised."""
    subject = one_line(subject)
    record = OutboxMessage(recipient=to, subject=subject, body=NOT_KEPT)
    if smtp_configured():
        try:
            _smtp_send(_message(to, subject, body))
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            record.error = _error_text(exc)
            log.warning("email to %s not sent: %s", to, record.error)
        else:
            record.sent_at = utcnow()
            log.info("email sent to %s: %s", to, subject)
    elif current_app.config["ENV"] == "production":
        record.error = NO_SMTP_IN_PRODUCTION
        log.error("email to %s %s", to, NO_SMTP_IN_PRODUCTION)
    else:
        record.body = body
        log.info(
            "no SMTP server configured: email kept in the outbox\nTo: %s\nSubject: %s\n\n%s",
            to,
            subject,
            body,
        )
    session.add(record)
    session.flush()
    return record


def delivered(message: OutboxMessage) -> bool:
    """Sent, or kept in the development outbox: anything but a recorded failure."""
    return not message.error


def delivery_state(message: OutboxMessage) -> str:
    """How the outbox page describes a message."""
    if message.sent_at is not None:
        return "sent"
    if message.error:
        return "failed"
    return "kept here"


# ---- the admins' outbox ---------------------------------------------------------------------


def search_outbox(session: Session, *, page: int = 1) -> Page[OutboxMessage]:
    """The outbox, newest first."""
    query = sa.select(OutboxMessage).order_by(
        OutboxMessage.created_at.desc(), OutboxMessage.id.desc()
    )
    return one_page(session, query, page, lambda row: row[0])


def get_message(session: Session, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)
