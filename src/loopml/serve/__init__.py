"""The prediction server (``loopml serve``) and its client.

The server itself (FastAPI, uvicorn) loads only when it runs; ``loopml.serve.Client`` needs
nothing beyond the standard library.
"""

from loopml.serve.client import Client, PredictionError

__all__ = ["Client", "PredictionError"]
