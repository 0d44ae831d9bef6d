"""The two ways a huey consumer runs here: as the `flask --app app worker` process, which owns
its signals, or beside a server in the same process (quickstart), which owns them instead."""

from __future__ import annotations

import signal

from huey.consumer import Consumer


class WorkerConsumer(Consumer):
    """The consumer of `flask --app app worker`: SIGTERM (systemd, docker) and Ctrl+C both let
    the jobs being run finish (up to SHUTDOWN_SECONDS), a second one stops at once. No SIGHUP
    restart: the process manager restarts a worker."""

    def _set_signal_handlers(self):
        self._signal_actions = {signal.SIGTERM: (False, True), signal.SIGINT: (False, True)}
        super()._set_signal_handlers()


class InProcessConsumer(Consumer):
    """A consumer beside a server: its threads only; the server owns the signals (Python
    accepts handlers from the main thread only, and Ctrl+C is the server's)."""

    def _set_signal_handlers(self):
        pass

    def stop_and_wait(self) -> None:
        self.stop(graceful=True)
