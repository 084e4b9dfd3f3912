"""Inference: the likelihood of an observed path of acts under a scenario, fitting a scenario's
open parameters to it, and outcome distributions that carry the parameters' uncertainty.

Depends downward only (scenario, policies, core, batch)."""

from .likelihood import ImpossibleObservation, Likelihood, log_likelihood

__all__ = ["ImpossibleObservation", "Likelihood", "log_likelihood"]
