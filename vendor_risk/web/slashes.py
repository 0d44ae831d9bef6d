"""Both spellings of a URL answer: with and without its trailing slash.

The canonical form of each page is the one its route declares: an area's home ends with a slash
(``/requests/``, ``/findings/``: the blueprint's root), every other page has none
(``/inventory/vendors``, ``/requests/new``). Werkzeug already redirects ``/requests`` to
``/requests/``; this adds the other way, ``/inventory/vendors/`` to ``/inventory/vendors``.
Both redirects are 308, which keeps the method and the body of a POST.
"""

from __future__ import annotations

from flask import redirect, request
from flask.globals import request_ctx
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect


def redirect_to_canonical_form():
    """Runs before every request, ahead of the access gate: a path that matches no route but
    would without its trailing slash is sent there. Nothing else changes: a path that matches
    neither way stays a 404."""
    if not isinstance(request.routing_exception, NotFound):
        return None
    path = request.path
    if len(path) < 2 or not path.endswith("/"):
        return None
    shorter = path[:-1]
    # Never a path that a browser would read as another host ("//evil.example").
    if not shorter or shorter.startswith("//") or "\\" in shorter:
        return None
    try:
        request_ctx.url_adapter.match(shorter, method=request.method)
    except (NotFound, MethodNotAllowed, RequestRedirect):
        return None
    query = request.query_string.decode("latin-1")
    target = request.root_path + shorter + (f"?{query}" if query else "")
    return redirect(target, code=308)
