"""The vectorized NumPy core: a scenario compiled to arrays (``plan``), the random numbers of
a step (``draws``), one step of the model (``step``), and a chunk of runs advanced together
(``engine``). No pandas, Mesa or plotting."""

from .draws import STREAM_BLOCK
from .engine import run_chunk
from .plan import OUTCOMES, Plan, compile_plan

__all__ = ["OUTCOMES", "STREAM_BLOCK", "Plan", "compile_plan", "run_chunk"]
