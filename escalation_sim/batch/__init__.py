"""Batches of runs: chunking, executors, results."""

from .result import BatchResult, ResultError, Summary, load_result, wilson_interval
from .simulate import Batch, BatchTooLarge, simulate
from .store import StoreError, local_cluster, open_executor, run_to_folder

__all__ = ["Batch", "BatchResult", "BatchTooLarge", "ResultError", "StoreError", "Summary", "load_result", "local_cluster",
           "open_executor", "run_to_folder", "simulate", "wilson_interval"]
