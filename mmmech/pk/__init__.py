"""The pharmacokinetics layer: population-PK models of the library drugs and their
concentration-time courses.

One-, two- and three-compartment linear models (optionally with the saturable, target-mediated
elimination of a sourced antibody model) dosed by IV bolus, IV infusion, or subcutaneous/oral
first-order absorption (bioavailability, lag time); multiple doses by superposition of the
closed-form single-dose solutions, checked against an ODE reference. Parameters come from
``structures/pk.toml``, each model with its source and the population it was estimated in
(``docs/pk.md``).

Examples
--------
>>> from mmmech import pk
>>> m = pk.model("ixazomib")
>>> round(pk.half_lives(m)[-1] / 24, 1) > 5          # terminal half-life in days
True
>>> doses = pk.schedule("4 mg", "oral", days=[1, 8, 15], cycle_days=28)
>>> df = pk.simulate("ixazomib", doses, times=[0, 1, 2, 24])
>>> list(df.columns)[:2]
['time_h', 'concentration']

Modules
-------
engine    closed forms (:func:`concentrations`, :func:`cumulative_auc`) and the ODE reference
library   :class:`PKModel` records read from ``structures/pk.toml`` (:func:`model`)
api       :func:`simulate`, :func:`schedule`, :func:`exposure` and closed-form metrics
variability  between-patient random effects (etas) from the sources' CV% (:func:`patient_etas`)
cellular  CAR-T cellular kinetics (expansion, contraction, persistence; ``pk.cellular.model``)
"""

from __future__ import annotations

from .api import (
    accumulation_ratio,
    as_doses,
    auc,
    concentration,
    css_average,
    exposure,
    half_lives,
    parse_amount,
    predict_check,
    schedule,
    simulate,
)
from .engine import (
    ROUTES,
    Absorption,
    Disposition,
    Dose,
    concentrations,
    cumulative_auc,
    exponentials,
    ode_batch,
    ode_concentrations,
)
from .library import Check, Covariate, Parameter, PKModel, model, models, names, read_models
from .variability import (
    correlations,
    eta_stream,
    omegas,
    patient_etas,
    sample_etas,
    with_etas,
)

__all__ = [
    "ROUTES",
    "Dose",
    "Absorption",
    "Disposition",
    "PKModel",
    "Parameter",
    "Covariate",
    "Check",
    "model",
    "models",
    "names",
    "read_models",
    "schedule",
    "parse_amount",
    "as_doses",
    "simulate",
    "concentration",
    "exposure",
    "auc",
    "half_lives",
    "accumulation_ratio",
    "css_average",
    "predict_check",
    "concentrations",
    "cumulative_auc",
    "exponentials",
    "ode_concentrations",
    "ode_batch",
    "omegas",
    "correlations",
    "eta_stream",
    "sample_etas",
    "patient_etas",
    "with_etas",
]
