"""A socket guard for offline tests: any network use that leaves this machine fails and is recorded.

``install(log_path)`` wraps ``socket.socket.connect``/``connect_ex``, ``socket.create_connection``,
``socket.getaddrinfo``, ``socket.gethostbyname``/``gethostbyname_ex`` and ``socket.gethostbyaddr``.
Loopback targets (127.0.0.0/8, ::1, ``localhost``) and non-IP sockets (Unix domain sockets) pass;
anything else raises ``OSError`` and appends one JSON line (what was attempted, the target and the
innermost stack frames) to ``log_path``. Importing this module changes nothing.

For a subprocess, :func:`sitecustomize_source` gives a ``sitecustomize.py`` that installs the guard
before the interpreter imports anything else (put its folder first on ``PYTHONPATH``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import traceback
from pathlib import Path
from typing import Any

LOG_ENV = "DOMAINFT_SOCKET_GUARD_LOG"
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_lock = threading.Lock()
_installed: dict[str, Any] = {}


class BlockedConnection(OSError):
    """A connection or DNS lookup to somewhere other than this machine, refused by the guard."""


def is_loopback_host(host: Any) -> bool:
    """True for ``localhost`` names and loopback IP literals (``127.x.x.x``, ``::1``).

    Examples:
        >>> is_loopback_host("127.0.0.1"), is_loopback_host("localhost"), is_loopback_host("192.0.2.1")
        (True, True, False)
    """
    if isinstance(host, bytes):
        host = host.decode("ascii", errors="replace")
    if not isinstance(host, str):
        return False
    name = host.strip().strip("[]").split("%", 1)[0].rstrip(".").lower()
    if name in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _record(log_path: str | None, what: str, target: Any) -> None:
    frames = traceback.format_stack(limit=14)[:-2]
    entry = {"what": what, "target": repr(target), "pid": os.getpid(), "stack": "".join(frames)}
    if log_path:
        with _lock, open(log_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")


def _refuse(log_path: str | None, what: str, target: Any) -> BlockedConnection:
    _record(log_path, what, target)
    return BlockedConnection(f"socket guard: {what} to {target!r} is not allowed (this run must be offline)")


def install(log_path: str | os.PathLike[str] | None = None) -> None:
    """Wrap the socket functions so that non-loopback targets raise and are logged to ``log_path``."""
    if _installed:
        return
    log = str(log_path) if log_path is not None else os.environ.get(LOG_ENV) or None
    original = {
        "connect": socket.socket.connect,
        "connect_ex": socket.socket.connect_ex,
        "create_connection": socket.create_connection,
        "getaddrinfo": socket.getaddrinfo,
        "gethostbyname": socket.gethostbyname,
        "gethostbyname_ex": socket.gethostbyname_ex,
        "gethostbyaddr": socket.gethostbyaddr,
    }

    def _inet(sock: socket.socket) -> bool:
        return sock.family in (socket.AF_INET, socket.AF_INET6)

    def connect(self: socket.socket, address: Any) -> None:
        if _inet(self) and not is_loopback_host(address[0]):
            raise _refuse(log, "connect", address)
        return original["connect"](self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if _inet(self) and not is_loopback_host(address[0]):
            raise _refuse(log, "connect_ex", address)
        return original["connect_ex"](self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not is_loopback_host(address[0]):
            raise _refuse(log, "create_connection", address)
        return original["create_connection"](address, *args, **kwargs)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_loopback_host(host):
            raise _refuse(log, "getaddrinfo", host)
        return original["getaddrinfo"](host, *args, **kwargs)

    def gethostbyname(host: str) -> str:
        if not is_loopback_host(host):
            raise _refuse(log, "gethostbyname", host)
        return original["gethostbyname"](host)

    def gethostbyname_ex(host: str) -> Any:
        if not is_loopback_host(host):
            raise _refuse(log, "gethostbyname_ex", host)
        return original["gethostbyname_ex"](host)

    def gethostbyaddr(host: str) -> Any:
        if not is_loopback_host(host):
            raise _refuse(log, "gethostbyaddr", host)
        return original["gethostbyaddr"](host)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.create_connection = create_connection  # type: ignore[assignment]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.gethostbyname = gethostbyname  # type: ignore[assignment]
    socket.gethostbyname_ex = gethostbyname_ex  # type: ignore[assignment]
    socket.gethostbyaddr = gethostbyaddr  # type: ignore[assignment]
    _installed.update(original)


def uninstall() -> None:
    """Put the original socket functions back (for the in-process unit test)."""
    if not _installed:
        return
    socket.socket.connect = _installed["connect"]  # type: ignore[method-assign]
    socket.socket.connect_ex = _installed["connect_ex"]  # type: ignore[method-assign]
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        setattr(socket, name, _installed[name])
    _installed.clear()


def read_log(log_path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The attempts recorded in ``log_path`` (empty when the file does not exist)."""
    path = Path(log_path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sitecustomize_source() -> str:
    """Source of a ``sitecustomize.py`` that installs this guard (log path from ``$DOMAINFT_SOCKET_GUARD_LOG``)
    and writes ``<log>.installed`` so a test can check that the guard was active."""
    return (
        "import importlib.util, os, sys\n"
        f"_spec = importlib.util.spec_from_file_location('_domainft_socket_guard', {str(Path(__file__))!r})\n"
        "_guard = importlib.util.module_from_spec(_spec)\n"
        "sys.modules['_domainft_socket_guard'] = _guard\n"
        "_spec.loader.exec_module(_guard)\n"
        f"_log = os.environ[{LOG_ENV!r}]\n"
        "_guard.install(_log)\n"
        "with open(_log + '.installed', 'a', encoding='utf-8') as _fh:\n"
        "    _fh.write(f'{os.getpid()}\\n')\n"
    )
