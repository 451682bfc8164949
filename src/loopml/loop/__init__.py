"""Continuous training: the project file, triggers, and the controller that retrains and promotes.

``loopml loop tick`` (one check, at most one iteration) or ``loopml loop run`` (every interval)
watch the model's monitors and labels; when a trigger fires outside the cooldown, an iteration
builds fresh training data, trains, registers the challenger, judges it against the champion on
held-out data through the gates and promotes it (or waits for approval, or keeps the champion and
says why). Every iteration is one record from the evidence to the decision.
"""

from loopml._util.lazy import lazy_getattr

_LAZY = {
    **dict.fromkeys(("LoopProject", "load_project"), "loopml.loop.project"),
    **dict.fromkeys(
        ("TickResult", "approve", "reject", "rollback", "run_forever", "tick"),
        "loopml.loop.controller",
    ),
    **dict.fromkeys(("history", "show", "iteration_dict"), "loopml.loop.records"),
    "run_iteration": "loopml.loop.iteration",
}

__all__ = sorted(_LAZY)
__getattr__ = lazy_getattr(__name__, _LAZY, ())
