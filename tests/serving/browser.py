"""Headless Chromium for the chat-page tests: find Debian's ``chromium``, install it when missing, launch it.

Playwright drives the system browser (``executable_path``); ``playwright install`` is never run, as
test machines have no network beyond the package mirror. On a fresh CI machine :func:`ensure_chromium`
installs the Debian package when it runs as root with ``apt-get``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

#: Flags for a quiet, offline, sandbox-free headless Chromium. Playwright adds ``--headless``,
#: ``--no-sandbox``, ``--no-first-run`` and a few more itself, and refuses ``--user-data-dir`` in
#: ``args`` (the profile folder is the first argument of ``launch_persistent_context``); repeating a
#: flag is harmless. The resolver rule makes every host but 127.0.0.1 unresolvable, so a page that
#: tried to load something from the internet fails at once instead of reaching out.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")


class ChromiumUnavailable(RuntimeError):
    """Chromium is not installed and could not be installed here (the reason says why)."""


def find_chromium() -> str | None:
    """The Chromium executable: ``$DOMAINFT_CHROMIUM`` when set, else Debian's ``chromium``, or None."""
    override = os.environ.get("DOMAINFT_CHROMIUM")
    if override:
        return override if Path(override).is_file() else shutil.which(override)
    for name in CANDIDATES:
        found = name if Path(name).is_file() and os.access(name, os.X_OK) else shutil.which(name)
        if found:
            return found
    return None


def _apt(*args: str, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        ["apt-get", *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def ensure_chromium() -> str:
    """Return Chromium's path, installing the ``chromium`` package with apt-get if it is missing.

    Raises :class:`ChromiumUnavailable` naming what to do when it is missing and cannot be
    installed (not root, no apt-get, or the installation failed).
    """
    found = find_chromium()
    if found:
        return found
    if os.environ.get("DOMAINFT_CHROMIUM"):
        raise ChromiumUnavailable(
            f"DOMAINFT_CHROMIUM={os.environ['DOMAINFT_CHROMIUM']!r} is neither a file nor a command on PATH"
        )
    if shutil.which("apt-get") is None:
        raise ChromiumUnavailable("chromium is not installed and there is no apt-get to install it")
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        raise ChromiumUnavailable(
            "chromium is not installed and installing it needs root: "
            "run `apt-get install -y --no-install-recommends chromium` (or set DOMAINFT_CHROMIUM)"
        )
    install = ("install", "-y", "--no-install-recommends", "chromium")
    try:
        result = _apt(*install, timeout=900)
        if result.returncode != 0:  # stale package lists: refresh them and try once more
            _apt("update", timeout=600)
            result = _apt(*install, timeout=900)
    except subprocess.TimeoutExpired as exc:
        raise ChromiumUnavailable(
            f"installing chromium with apt-get timed out after {exc.timeout:.0f} s"
        ) from None
    found = find_chromium()
    if result.returncode != 0 or found is None:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ChromiumUnavailable(
            f"`apt-get install chromium` failed (exit {result.returncode}): " + " | ".join(tail)
        )
    return found


def launch(playwright: Any, executable: str, profile_dir: Path, **options: Any) -> Any:
    """A headless Chromium context on a fresh profile folder (``playwright.chromium``'s persistent context)."""
    profile_dir.mkdir(parents=True, exist_ok=True)
    return playwright.chromium.launch_persistent_context(
        str(profile_dir),
        executable_path=executable,
        headless=True,
        args=LAUNCH_ARGS,
        **options,
    )
