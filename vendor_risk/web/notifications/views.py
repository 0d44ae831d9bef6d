"""Every signed-in user's notifications (staff and vendor contacts alike, each only their own)
and their preferences: email at once, a daily digest, or in the app only."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ...db import db
from ...models import Delivery, EventType
from ...services import notifications
from ..access import area, request_actor
from ..forms import PageForm
from .forms import NotificationActionForm, preferences_form

bp = area("notifications", __name__, roles=None)


def _list_url(page: int | None = None) -> str:
    return (
        url_for("notifications.index", page=page)
        if page and page > 1
        else url_for("notifications.index")
    )


def _submitted() -> None:
    if not NotificationActionForm().validate_on_submit():
        abort(400)


def _back() -> str:
    """Back to the page of the list the button was on."""
    page = request.form.get("page", "")
    return _list_url(int(page) if page.isdigit() and len(page) < 6 else None)


@bp.get("/notifications/")
def index():
    form = PageForm(request.args)
    if not form.validate():
        abort(400)
    page = notifications.inbox(db.session, current_user.id, page=form.page.data or 1)
    return render_template(
        "notifications/index.html",
        page=page,
        url=lambda page=None: _list_url(page),
        link=notifications.link_url,
        form=NotificationActionForm(),
    )


def _own(notification_id: int):
    notification = notifications.own_notification(db.session, current_user.id, notification_id)
    if notification is None:
        abort(404)  # another user's is as missing as one that never was
    return notification


@bp.post("/notifications/<int:notification_id>/open")
def open_notification(notification_id: int):
    """Mark it read and go to its page."""
    _submitted()
    notification = _own(notification_id)
    notifications.mark_read(notification)
    target = notifications.link_url(notification)
    db.session.commit()
    if target is None:
        flash("What this notification was about is no longer in the app.", "info")
        return redirect(url_for("notifications.index"))
    return redirect(target)


@bp.post("/notifications/<int:notification_id>/read")
def mark_read(notification_id: int):
    _submitted()
    notifications.mark_read(_own(notification_id))
    db.session.commit()
    return redirect(_back())


@bp.post("/notifications/read-all")
def mark_all_read():
    _submitted()
    marked = notifications.mark_all_read(db.session, current_user.id)
    db.session.commit()
    if marked:
        flash(
            f"{marked} {'notification' if marked == 1 else 'notifications'} marked read.", "success"
        )
    return redirect(_back())


@bp.route("/account/notifications", methods=["GET", "POST"], endpoint="preferences")
def preferences():
    user = current_user._get_current_object()
    events = notifications.events_for(user.roles)
    current = notifications.preferences_of(db.session, user.id)
    form = preferences_form(events, current, request.form if request.method == "POST" else None)
    if request.method == "POST":
        if form.validate_on_submit():
            choices = {event: Delivery(form[event.value].data) for event in events}
            changed = notifications.set_preferences(
                db.session, user, choices, actor=request_actor()
            )
            db.session.commit()
            flash(
                "Your notification preferences were saved."
                if changed
                else "Nothing changed: these were your preferences already.",
                "success",
            )
            return redirect(url_for("notifications.preferences"))
        status = 400
    else:
        status = 200
    return render_template(
        "notifications/preferences.html",
        form=form,
        fields=[form[event.value] for event in events],
        event_type=EventType,
    ), status
