"""Airflow's components for `waybill demo --serve`, started and stopped by us rather than by
`airflow standalone`, which listens on every interface (its log servers bind 0.0.0.0 whatever the
settings say), unpauses before anything answers, keeps running without its UI when the port is
taken, and takes a minute or more to stop.

Here: the api-server listens on HOST (127.0.0.1 unless told otherwise), the scheduler and the
triggerer run without log servers (tasks run on this machine: the api-server reads their log files
directly), the DAGs are created paused and are unpaused only once the api-server reports the
metadata database, the scheduler and the DAG processor healthy; all components share one process
group, so that Ctrl-C stops all of them: SIGINT, then SIGTERM, then SIGKILL, within GRACE_S (the
scheduler otherwise waits for running tasks), and everything within STOP_S.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import requests

from waybill.core.errors import ConfigError, WaybillError
from waybill.ops import airflow_home

#: seconds from Ctrl-C until everything `--serve` started is gone (the simulators take a moment too)
STOP_S = 20
#: of which the components get: SIGINT, SIGTERM at half of it, SIGKILL at the end
GRACE_S = 12
#: seconds the components get to start and report healthy
START_S = 240
HEALTHY = ("metadatabase", "scheduler", "dag_processor")


def check_port(host: str, port: int) -> None:
    """Refuse a port something already listens on, with a message that says what to do."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as err:
            if err.errno in (errno.EADDRINUSE, errno.EACCES):
                raise ConfigError(f"port {port} on {host} is in use (another Airflow or `waybill demo --serve`?): "
                                  "stop it or choose another port with --port") from None
            raise ConfigError(f"cannot listen on {host}:{port}: {err.strerror}") from None


def stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM both stop the components, also when this process was started with
    SIGINT ignored (as a shell's background job is), where Python would not raise KeyboardInterrupt."""
    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def components(host: str, port: int) -> dict[str, list[str]]:
    """The Airflow commands to run, by component."""
    return {
        "api-server": ["api-server", "--host", host, "--port", str(port)],
        "scheduler": ["scheduler", "--skip-serve-logs"],
        "dag-processor": ["dag-processor"],
        "triggerer": ["triggerer", "--skip-serve-logs"],
    }


def environment(base: Mapping[str, str], port: int) -> dict[str, str]:
    """The components' environment: LocalExecutor, the simple auth manager, DAGs paused at creation,
    the Execution API where the api-server is, and this venv's executables first on PATH."""
    return {
        **base,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # unpaused once everything answers
        "AIRFLOW__API__PORT": str(port),
        # tasks reach the Execution API on the api-server: the two must move together
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}",
    }


class Components:
    """The running components, one process group."""

    def __init__(self, env: Mapping[str, str], commands: Mapping[str, list[str]], log: IO[bytes] | None) -> None:
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        group = 0  # the first component leads a new group; the others join it
        for name, args in commands.items():
            proc = subprocess.Popen([airflow_home.airflow_bin(), *args], env=dict(env), stdout=log,
                                    stderr=subprocess.STDOUT, process_group=group)
            group = group or proc.pid
            self.procs[name] = proc
        self.group = group

    def exited(self) -> dict[str, int]:
        """Components that have ended, with their exit codes."""
        return {n: code for n, p in self.procs.items() if (code := p.poll()) is not None}

    def stop(self, within: float = GRACE_S) -> bool:
        """SIGINT (Airflow's clean shutdown), SIGTERM at half time, SIGKILL at the end; True when
        every component ended before the SIGKILL."""
        deadline = time.monotonic() + within
        for sig, until in ((signal.SIGINT, deadline - within / 2), (signal.SIGTERM, deadline - 1)):
            self._signal(sig)
            if self._wait(until):
                return True
        self._signal(signal.SIGKILL)
        self._wait(time.monotonic() + 5)
        return False

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.group, sig)

    def _wait(self, until: float) -> bool:
        while time.monotonic() < until:
            if all(p.poll() is not None for p in self.procs.values()) and not _group_alive(self.group):
                return True
            time.sleep(0.2)
        return False


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group (a component's own children too) is still there."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def health(port: int) -> dict[str, Any] | None:
    """The api-server's health report, or None while it does not answer."""
    try:
        answer = requests.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5)
        report: dict[str, Any] = answer.json() if answer.ok else {}
    except (requests.RequestException, ValueError):
        return None
    return report or None


def wait_healthy(running: Components, port: int, *, timeout: float = START_S,
                 say: Callable[[str], None] = lambda _text: None) -> None:
    """Wait until the api-server reports every part in HEALTHY as healthy; a component that ends
    meanwhile is an error naming it."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        ended = running.exited()
        if ended:
            raise WaybillError("Airflow did not start: " + ", ".join(f"{n} exited with {c}" for n, c in ended.items()))
        report = health(port) or {}
        waiting = [p for p in HEALTHY if (report.get(p) or {}).get("status") != "healthy"]
        if report and not waiting:
            return
        now = "api-server" if not report else ", ".join(waiting)
        if now != last:
            say(f"waiting for {now}")
            last = now
        time.sleep(1)
    raise WaybillError(f"Airflow did not report healthy within {timeout:.0f} s")


def unpause_when_parsed(dag_ids: Iterable[str], running: Components, *, timeout: float = START_S) -> list[str]:
    """Unpause the DAGs as soon as the DAG processor has created them; returns those still missing."""
    wanted = set(dag_ids)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not running.exited():
        wanted -= set(airflow_home.unpause(wanted))
        if not wanted:
            break
        time.sleep(1)
    return sorted(wanted)
