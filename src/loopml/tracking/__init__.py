"""Experiment tracking: runs, params, metrics, tags and artifacts, fluent and by id."""

__all__ = ["autolog", "client", "fluent"]
