"""What the commands share: who acts (the audit trail's actor), files they write, and one line
instead of a traceback when the database cannot be used."""

from __future__ import annotations

import contextlib
import functools
import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from ..db import describe_unavailable
from ..services.audit import Actor
from ..services.close_names import close_vendor_names


def no_vendor_named(session: Session, name: str) -> str:
    """The one message of every command given a vendor name that matches none, with the
    closest names offered: "no vendor named 'keystone'; did you mean 'Keystone Identity'?"."""
    words = f"no vendor named {name!r}"
    close = [repr(found) for found in close_vendor_names(session, name)]
    if close:
        either = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
        words += f"; did you mean {either}?"
    return words


def cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor.system(f"cli:{who}")


class OutputFile(click.Path):
    """A file a command is about to write: its folder must exist and be writable, checked
    before any work is done (a PDF is not rendered for a minute to fail at the last step).
    A refusal is one line and exit 1, like every other failure of a command."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = Path(value)
        folder = path.parent
        if path.is_dir():
            problem = "it is a folder"
        elif not folder.is_dir():
            problem = f"the folder {str(folder)!r} does not exist"
        elif not os.access(folder, os.W_OK | os.X_OK):
            problem = f"the folder {str(folder)!r} is not writable"
        elif path.exists() and not os.access(path, os.W_OK):
            problem = f"{str(path)!r} exists and is not writable"
        else:
            return path
        raise click.ClickException(f"cannot write {str(path)!r}: {problem}; nothing was done")


def write_private(path: Path, content: bytes | str) -> None:
    """Write a file readable by its owner only: an export or a report maps which vendor can
    reach which system. Its folder was checked by :class:`OutputFile`; what can still fail
    (a full disk) is one clear line."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {str(path)!r}: {exc.strerror}") from None


def _database_errors(callback: Callable[..., Any]) -> Callable[..., Any]:
    """A command that finds the database locked past the busy timeout, unreachable or not
    built prints one line saying so and exits 1, never a traceback."""

    @functools.wraps(callback)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (sa.exc.OperationalError, sa.exc.TimeoutError) as exc:
            url = None
            with contextlib.suppress(RuntimeError, KeyError):  # outside an app, or no engine
                url = current_app.config["SQLALCHEMY_ENGINES"]["default"]
            raise click.ClickException(describe_unavailable(exc, url)) from None

    return guarded


def guard_database_errors(command: click.Command) -> None:
    if command.callback is not None and not getattr(command.callback, "_db_guarded", False):
        command.callback = _database_errors(command.callback)
        command.callback._db_guarded = True  # type: ignore[attr-defined]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            guard_database_errors(sub)
