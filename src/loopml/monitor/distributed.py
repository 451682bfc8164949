"""Window computations on a Dask cluster (``dask-local`` or ``dask://host:port``).

Each window is one task; workers read the segments from the artifact store themselves, so only
the small task (profile, piece list, labels) and the reference travel. Workers must reach the
same store and artifact store as this process: the URIs go with every task.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from loopml.errors import BackendUnavailable, InvalidInput
from loopml.monitor.compute import WindowTask, compute_window
from loopml.monitor.config import MonitorConfig
from loopml.monitor.reference import Reference
from loopml.workspace import Workspace, default_workspace


def dask_compute(executor: str, ws: Workspace) -> Any:
    """A compute function that maps the windows over a Dask cluster, in window order."""
    if executor != "dask-local" and not executor.startswith(("dask://", "tcp://")):
        raise InvalidInput(
            f"unknown executor {executor!r}",
            field="executor",
            value=executor,
            hint="use dask-local or dask://host:port (or leave it out to compute here)",
        )
    uris = {"store_uri": ws.settings.store_uri, "artifact_uri": ws.settings.artifact_uri}

    def compute(
        tasks: Sequence[WindowTask], reference: Reference, config: MonitorConfig
    ) -> list[dict[str, Any]]:
        client, cluster = _connect(executor)
        try:
            # One opaque payload: Dask reads nested dicts in arguments as task graphs.
            payload = json.dumps(
                {"reference": reference.to_dict(), "config": config.to_dict(), "uris": uris}
            ).encode()
            futures = client.map(compute_remote, list(tasks), [payload] * len(tasks), pure=False)
            return list(client.gather(futures))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    return compute


def compute_remote(task: WindowTask, payload: bytes) -> dict[str, Any]:
    """Entry point on a worker: point the workspace at the caller's stores, then compute."""
    given = json.loads(payload)
    reference: Mapping[str, Any] = given["reference"]
    config: Mapping[str, Any] = given["config"]
    uris: Mapping[str, str] = given["uris"]
    ws = default_workspace()
    if (ws.settings.store_uri, ws.settings.artifact_uri) != (
        uris["store_uri"],
        uris["artifact_uri"],
    ):
        from loopml.tracking import fluent

        fluent.set_tracking_uri(uris["store_uri"], uris["artifact_uri"])
        ws = default_workspace()
    return compute_window(task, Reference.from_dict(reference), MonitorConfig.from_dict(config), ws)


def _connect(executor: str) -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise BackendUnavailable(
            "monitoring on Dask needs dask.distributed",
            field="executor",
            hint='pip install "loopml[dask]"',
        ) from None
    if executor == "dask-local":
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )  # type: ignore[no-untyped-call]
        return Client(cluster), cluster  # type: ignore[no-untyped-call]
    address = "tcp://" + executor.split("://", 1)[1]
    try:
        return Client(address, timeout=10), None  # type: ignore[no-untyped-call]
    except OSError as exc:
        raise BackendUnavailable(
            f"no Dask scheduler answered at {address}: {exc}",
            field="executor",
            value=executor,
            hint="start one with `dask scheduler`, or use --executor dask-local",
        ) from None
