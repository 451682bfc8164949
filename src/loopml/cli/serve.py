"""``loopml serve``: the HTTP prediction server for a registered model."""

from __future__ import annotations

import typer

from loopml.cli.errors import fail
from loopml.cli.render import console


def serve(
    model_uri: str = typer.Argument(..., help="models:/name@champion, models:/name/3 or runs:/…"),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (loopback default)."),
    port: int = typer.Option(8080, "--port", help="TCP port."),
    workers: int = typer.Option(1, "--workers", help="Worker processes sharing the port."),
    canary: str | None = typer.Option(None, "--canary", help="Model taking a share of traffic."),
    canary_percent: float = typer.Option(0.0, "--canary-percent", help="Share for --canary."),
    shadow: str | None = typer.Option(
        None, "--shadow", help="Model run on every row, not returned."
    ),
    max_batch_size: int = typer.Option(
        1, "--max-batch-size", help="Rows per model call (>1: batch)."
    ),
    max_latency_ms: float = typer.Option(5.0, "--max-latency-ms", help="Longest wait for a batch."),
    poll_interval: float = typer.Option(
        5.0, "--poll-interval", help="Seconds between alias checks."
    ),
    max_body_mb: float = typer.Option(10.0, "--max-body-mb", help="Largest request body."),
    log_flush_interval: float = typer.Option(
        5.0, "--log-flush-interval", help="Seconds between prediction-log segments."
    ),
    insecure: bool = typer.Option(False, "--insecure", help="Allow a public bind without a token."),
    allow_host: list[str] = typer.Option(
        [], "--allow-host", help="Extra Host header name to accept on loopback (a proxy's)."
    ),
) -> None:
    """Serve a model over HTTP: /predict, /feedback, /health, /ready, /model, /metrics, /docs."""
    from loopml.config import Settings
    from loopml.registry.load import resolve
    from loopml.serve.app import serve_forever
    from loopml.serve.options import ServeOptions

    options = ServeOptions(
        model_uri=model_uri,
        host=host,
        port=port,
        canary_uri=canary,
        canary_percent=canary_percent,
        shadow_uri=shadow,
        max_batch_size=max_batch_size,
        max_latency_ms=max_latency_ms,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        poll_interval_s=poll_interval,
        log_flush_interval_s=log_flush_interval,
        insecure=insecure,
        allowed_hosts=tuple(allow_host),
    )
    if workers < 1:
        fail("--workers must be at least 1", 2)
    if not options.loopback and not Settings.from_env().serve_token and not insecure:
        fail(
            f"refusing to listen on {host} without a token: set LOOPML_SERVE_TOKEN (clients send "
            "Authorization: Bearer <token>) or pass --insecure",
            2,
        )
    for uri in filter(None, (model_uri, canary, shadow)):
        resolve(uri)  # a wrong URI fails here, in one line, not in a worker
    shown = f"[{host}]" if ":" in host else host
    console.print(f"serving {model_uri} on http://{shown}:{port} (docs at /docs)")
    serve_forever(options, workers=workers)
