"""Monitoring: drift, accuracy once labels arrive, and accuracy estimated before they do.

A monitor watches one model's prediction log in windows (``1h`` of prediction time or
``1000rows``), compares each window with the training data of the version the alias serves,
and stores one result per window; alert rules over the results become events (and webhooks).
"""

from loopml._util.lazy import lazy_getattr

_LAZY = {
    **dict.fromkeys(
        ("Monitor", "create", "delete", "get", "list", "refresh_reference", "results"),
        "loopml.monitor.api",
    ),
    "run": "loopml.monitor.runner",
    "estimate": "loopml.monitor.performance",
    "PerformanceEstimate": "loopml.monitor.performance",
    "WindowResult": "loopml.monitor.window_result",
    "MonitorConfig": "loopml.monitor.config",
    "WindowSpec": "loopml.monitor.config",
    "report": "loopml.monitor.reporting",
}

__all__ = sorted(_LAZY)
__getattr__ = lazy_getattr(__name__, _LAZY, ())
