"""Batches of runs: chunking, executors, results."""

from .result import BatchResult, Summary, load_result, wilson_interval
from .simulate import Batch, simulate

__all__ = ["Batch", "BatchResult", "Summary", "load_result", "simulate", "wilson_interval"]
