"""Inference: the likelihood of an observed path of acts under a scenario, fitting a scenario's
open parameters to it, and outcome distributions that carry the parameters' uncertainty.

Depends downward only (scenario, policies, core, batch, plots)."""

from .exogenous import exogenous_acts
from .fit import Fit, fit, load_fit, scenario_at, scenario_values
from .likelihood import ImpossibleObservation, Likelihood, log_likelihood
from .predict import PosteriorPredictive, plug_in, posterior_predictive

__all__ = ["ImpossibleObservation", "Likelihood", "log_likelihood", "exogenous_acts", "Fit", "fit", "load_fit",
           "scenario_at", "scenario_values", "PosteriorPredictive", "posterior_predictive", "plug_in"]
