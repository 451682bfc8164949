"""What ``loopml serve`` was asked to do, as one value that survives a trip to worker processes."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass
from typing import Any

from loopml.errors import InvalidInput

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


@dataclass(frozen=True)
class ServeOptions:
    """The models to serve and how (defaults: loopback, no batching, 10 MB bodies)."""

    model_uri: str
    host: str = "127.0.0.1"
    port: int = 8080
    canary_uri: str | None = None
    canary_percent: float = 0.0
    shadow_uri: str | None = None
    max_batch_size: int = 1  # 1: micro-batching off
    max_latency_ms: float = 5.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_rows: int = 10_000
    poll_interval_s: float = 5.0
    log_flush_interval_s: float = 5.0
    insecure: bool = False
    allowed_hosts: tuple[str, ...] = ()  # Host names accepted besides this machine's own

    def __post_init__(self) -> None:
        if not 0.0 <= self.canary_percent <= 100.0:
            raise InvalidInput(
                f"--canary-percent must be between 0 and 100, got {self.canary_percent}",
                field="canary_percent",
            )
        if self.canary_percent > 0 and self.canary_uri is None:
            raise InvalidInput(
                "--canary-percent needs --canary", field="canary_percent", hint="name the model"
            )
        if not 1 <= self.port <= 65535:
            raise InvalidInput(f"--port must be between 1 and 65535, got {self.port}", field="port")
        for name in ("max_batch_size", "max_rows", "max_body_bytes", "port"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(f"{name} must be a whole number ≥ 1, got {value!r}", field=name)
        for name in ("max_latency_ms", "poll_interval_s", "log_flush_interval_s"):
            if not getattr(self, name) > 0:
                raise InvalidInput(f"{name} must be greater than 0", field=name)

    @property
    def loopback(self) -> bool:
        """True when only this machine can reach the server."""
        if self.host in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False

    def host_allowed(self, header: str) -> bool:
        """Whether a request's Host header names this server (DNS-rebinding protection)."""
        name = _host_name(header)
        if name in {h.lower() for h in self.allowed_hosts} or name == self.host.strip("[]").lower():
            return True
        if name == "localhost":
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    @property
    def batching(self) -> bool:
        return self.max_batch_size > 1

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeOptions:
        data: dict[str, Any] = json.loads(text)
        data["allowed_hosts"] = tuple(data.get("allowed_hosts", ()))
        return cls(**data)


def _host_name(header: str) -> str:
    """``host`` of ``host``, ``host:port``, ``[::1]`` or ``[::1]:port``, lowercased."""
    text = header.strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text
