"""Is a process still alive? Used to mark runs of dead processes FAILED."""

from __future__ import annotations

import os
import socket

import psutil


def pid_alive(pid: int) -> bool:
    """True when ``pid`` names a live process on this host (zombies count as dead)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def hostname() -> str:
    """This machine's name as runs record it."""
    return socket.gethostname()
