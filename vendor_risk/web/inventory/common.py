"""What the inventory's pages share, and the other areas' pages borrow: a row or a 404, a form
submitted (every problem at its field, one commit), a deletion confirmed (409 while something
depends on it), and a list's filters carried over to its links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from ...db import db
from ...services import EditConflict, ValidationFailed
from ..access import request_actor, safe_next
from ..forms import ConfirmForm
from ..vendor_field import VendorField


def _found(obj):
    if obj is None:
        abort(404)
    return obj


def _show_errors(form, errors: dict[str, list[str]]) -> None:
    """Each message at its field (once: the form and the service may both refuse an id);
    messages about the whole form as a flash."""
    for name, messages in errors.items():
        if name and name in form:
            shown = list(form[name].errors)
            form[name].errors = [*shown, *(m for m in messages if m not in shown)]
        else:
            flash(" ".join(messages), "error")


def _submit(form, problems: Callable[[dict], dict], save: Callable[[dict], Any]):
    """Validate the form and the service's checks (every problem shown at once, each at its
    field); when all pass, save and commit. Returns what ``save`` returned, or None when the
    form was refused (nothing saved)."""
    form_ok = form.validate()
    values = form.values()
    found = problems(values)
    _show_errors(form, found)
    if not form_ok or found:
        return None
    try:
        saved = save(values)
    except ValidationFailed as exc:
        db.session.rollback()
        _show_errors(form, exc.errors)
        if isinstance(exc, EditConflict):
            # Saving again is then a deliberate choice to replace their version.
            form.version.data = exc.current_version
        return None
    db.session.commit()
    return saved


def _back() -> str | None:
    """Where a form opened from another page (a vendor's tab) returns once saved or cancelled:
    ``next``, from the link (GET) or the form's hidden field (POST), when it is a path of this
    app; anything else (another site, ``//host``) is ignored."""
    return safe_next(request.values.get("next"))


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


def _delete(obj, key: str, *, plan, delete, template: str, done: str, message: str):
    """The confirmation page (GET) and the deletion (POST), refused with 409 while something
    depends on ``obj``."""
    status = 200
    if request.method == "POST":
        _confirmed()
        try:
            delete(db.session, obj, actor=request_actor())
        except ValidationFailed:
            db.session.rollback()
            status = 409
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for(done))
    context = {key: obj, "plan": plan(db.session, obj), "form": ConfirmForm()}
    return render_template(template, **context), status


def _filter_args(names: tuple[str, ...], form=None) -> dict[str, str]:
    """The filters of a list page that carry over to its links (never other arguments). A
    vendor box of the validated ``form`` carries its vendor's id, whether the name was typed
    or the id came from a link."""
    args = {name: request.args[name] for name in names if request.args.get(name)}
    for name in names:
        field = form[name] if form is not None and name in form else None
        if isinstance(field, VendorField):
            args.pop(name, None)
            if field.data is not None and not field.errors:
                args[name] = str(field.data)
    return args


def _linker(endpoint: str, args: dict[str, str], **view_args):
    """``url(page=2)``, ``url(sort="name", page=None)``: this list with some filters changed."""

    def url(**changes) -> str:
        merged = {**args, **changes}
        kept = {k: v for k, v in merged.items() if v is not None and v != ""}
        return url_for(endpoint, **view_args, **kept)

    return url


def _choices(rows, blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice(row_id, name) for row_id, name in rows]
    return [SelectChoice("", blank), *choices] if blank is not None else choices
