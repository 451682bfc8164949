"""The prediction log: written by the server, read by monitoring and the training loop.

It sits below both so neither depends on the other: serving appends segments, monitors merge
their profiles and read their rows, the loop turns labelled predictions into training data.
"""

from loopml.predictions.log import LoggedPrediction, PredictionLog, read_predictions

__all__ = ["LoggedPrediction", "PredictionLog", "read_predictions"]
