"""What every deployable's ``main`` does around its ``wire(rt, cfg)``: the CLI, the run loop, the exit code.

- :func:`parse_config`: ``--config PATH`` (default: the ``config.yaml`` beside ``app.py``) and repeated
  ``--set KEY=VALUE`` overrides → the app's config dataclass (:func:`dnt.config.load`).
- :func:`run_xapp`: SIGTERM / SIGINT stop the runtime cleanly, an optional background work thread gets a
  stop event, ``rt.run()`` dispatches until stopped, and ``"<name> stopped: {metrics}"`` is logged (tests
  and the demo parse that line).
- :func:`wait_for_signal`: block until SIGTERM / SIGINT (an rApp that only serves).
- :func:`main_guard`: ``sys.exit(main())``, a :class:`~dnt.errors.DntError` → ``<prog>: error: ...`` on
  stderr and exit status 2.

An xApp's ``main`` is then config → logging → runtime → ``wire`` → :func:`run_xapp`::

    def main(argv=None):
        cfg = parse_config(argv, "kpimon", __doc__, Path(__file__).with_name("config.yaml"), KpimonConfig)
        mdc_logging("kpimon", cfg.log_level)
        rt = make_runtime("kpimon", cfg.runtime)
        cells = wire(rt, cfg)
        return run_xapp(rt, "kpimon", partial(watch_nodes, rt, cells, cfg), log=log)

    if __name__ == "__main__":
        main_guard("kpimon", main)
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TypeVar

from dnt import config as dnt_config
from dnt.errors import DntError
from dnt.ric.runtime import Runtime

__all__ = ["STOP_SIGNALS", "main_guard", "parse_config", "run_xapp", "wait_for_signal"]

T = TypeVar("T")

STOP_SIGNALS: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)
"""The signals that stop a deployable (Kubernetes sends SIGTERM, Ctrl-C SIGINT)."""


def parse_config(argv: Sequence[str] | None, prog: str, doc: str | None, default_config: str | Path,
                 cls: type[T]) -> T:
    """The app's config from its command line: ``--config PATH`` and ``--set KEY=VALUE`` (repeatable).

    Parameters
    ----------
    argv : sequence of str or None
        The arguments (None: ``sys.argv[1:]``).
    prog : str
        The program name in usage and error messages.
    doc : str or None
        The app module's docstring; its first line is the ``--help`` description.
    default_config : str or Path
        ``--config``'s default (the ``config.yaml`` beside ``app.py``).
    cls : type
        The config dataclass :func:`dnt.config.load` builds.

    Raises
    ------
    ConfigError
        The file does not load or an override / value is bad (``SystemExit`` 2 on bad arguments, as argparse).
    """
    p = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0] if doc else None)
    p.add_argument("--config", default=str(default_config))
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    args = p.parse_args(argv)
    return dnt_config.load(args.config, cls, args.set)


def run_xapp(rt: Runtime, name: str, work: Callable[[threading.Event], object] | None = None,
             on_start: Callable[[], object] | None = None, *, log: logging.Logger | None = None,
             thread_name: str | None = None, signals: Sequence[int] = STOP_SIGNALS) -> int:
    """Run a wired xApp until a stop signal (or ``rt.stop()``), then log its metrics; returns exit status 0.

    In order: ``signals`` set a stop event and call ``rt.stop()`` from a new thread (a signal handler may
    interrupt a send); ``on_start()`` runs (ask A1 for policies, log "running"); ``work(stopped)`` starts
    in a daemon thread (it should return once ``stopped`` is set); ``rt.run()`` dispatches until stopped;
    then the event is set, the runtime stopped and ``"<name> stopped: {metrics}"`` logged.

    Parameters
    ----------
    rt : Runtime
        The runtime, handlers registered (the app's ``wire``).
    name : str
        The xApp name in the stop line (``cfg.name`` for replicated apps).
    work : callable(threading.Event), optional
        The background loop (node scans, periodic decisions).
    on_start : callable(), optional
        Runs once the signal handlers are set, before the work thread starts.
    log : logging.Logger, optional
        Where the stop line goes (default: the logger named ``name``).
    thread_name : str, optional
        The work thread's name (default ``<name>-work``).
    signals : sequence of int
        The stop signals (SIGTERM, SIGINT); must be set from the main thread.
    """
    log = log or logging.getLogger(name)
    stopped = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:  # stop() from a thread: the handler may interrupt a send
        stopped.set()
        threading.Thread(target=rt.stop).start()

    for sig in signals:
        signal.signal(sig, on_signal)
    if on_start is not None:
        on_start()
    if work is not None:
        threading.Thread(target=work, args=(stopped,), name=thread_name or f"{name}-work", daemon=True).start()
    rt.run()
    stopped.set()
    rt.stop()
    log.info("%s stopped: %s", name, rt.metrics())
    return 0


def wait_for_signal(signals: Sequence[int] = STOP_SIGNALS) -> None:
    """Block until one of ``signals`` arrives (main thread only)."""
    stopped = threading.Event()
    for sig in signals:
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()


def main_guard(prog: str, main: Callable[[], int]) -> NoReturn:
    """``sys.exit(main())``; a :class:`~dnt.errors.DntError` → ``<prog>: error: <message>`` on stderr, exit 2."""
    try:
        code = main()
    except DntError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code)
