"""Tumour burden and serum M-protein driven by the network's readouts.

Tumour burden ``N`` (relative to the start) follows

    dN/dt = (g * Proliferation - d * (Apoptosis + ImmuneKilling)) * N

with the readouts of the myeloma network held constant over each time step, and the serum
M-protein ``M`` (g/dL) is made in proportion to the burden and cleared first order with the
half-life of the immunoglobulin:

    dM/dt = k_syn * N - k_el * M,   k_el = ln 2 / t_half,  k_syn = k_el * M0   (N0 = 1)

so the untreated start is the production-clearance balance at the starting burden. Both
equations are solved exactly on each step (piecewise-constant rates), vectorised over a batch.

Rates (``docs/dynamics.md``):

- intrinsic birth rate ``ln 2 / 46.8 d``: the potential doubling time of marrow myeloma plasma
  cells from the DNA-synthesis time and labelling index (Ucci et al., Cell Prolif 1987,
  DOI:10.1111/j.1365-2184.1987.tb01313.x: 46.8 +/- 27.5 d, range 15.0-75.4 d);
- net growth of the untreated burden ``ln 2 / 180 d``: serum M-protein doubling time at
  relapse, the split of 137 patients at 6 months (65 <= 6 months, 72 longer; Eur J Haematol
  1996;57:247, DOI:10.1111/j.1600-0609.1996.tb01371.x);
- ``g`` and ``d`` follow: ``g * P0`` is the birth rate and ``d * (A0 + IK0)`` the difference
  (cell loss) at the untreated steady state of the chosen context, so the untreated network
  gives the sourced net growth and a readout that doubles doubles that rate;
- immunoglobulin half-lives: IgG 21 d (21-24 d for IgG1/2/4, PMC:PMC11448508, a review), IgA
  5.9 d (IgA1; IgA2 4.5 d, PMID:4717094), free light chains 2-6 h (kappa 2-4 h, lambda 3-6 h,
  read in Bradwell's *Serum Free Light Chain Analysis*; secondary, ``verified = False``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from ..exceptions import InvalidInputError
from ..utils import did_you_mean

__all__ = [
    "Rate",
    "TumourModel",
    "HALF_LIVES",
    "BIRTH_DOUBLING_DAYS",
    "UNTREATED_DOUBLING_DAYS",
    "tumour_model",
    "integrate",
    "scale_rates",
]


@dataclass(frozen=True)
class Rate:
    """A sourced number: `value` in `unit`, its `source`, optional range, `verified`, `note`."""

    value: float
    unit: str
    source: str
    low: float | None = None
    high: float | None = None
    verified: bool = True
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "source": self.source,
            "low": self.low,
            "high": self.high,
            "verified": self.verified,
            "note": self.note,
        }


#: potential doubling time of marrow myeloma plasma cells (intrinsic birth rate ln2 / this)
BIRTH_DOUBLING_DAYS = Rate(
    46.8,
    "day",
    "DOI:10.1111/j.1365-2184.1987.tb01313.x",
    low=15.0,
    high=75.4,
    verified=False,
    note="Ucci et al., Cell Prolif 1987 (abstract read): potential doubling time 46.8 +/- 27.5 d "
    "(15.0-75.4) of bone-marrow plasma cells from 3H-thymidine labelling index and DNA-synthesis "
    "time in 7 patients; fractional turnover 3.53 +/- 2.3 %/day. Abstract only.",
)
#: doubling time of the untreated (relapsing) burden, from the serum M-protein doubling time
UNTREATED_DOUBLING_DAYS = Rate(
    182.6,
    "day",
    "DOI:10.1111/j.1600-0609.1996.tb01371.x",
    verified=False,
    note="Eur J Haematol 1996;57:247 (abstract read): M-protein doubling time at escape from "
    "plateau measured in 137 patients, 65 with <= 6 months and 72 longer, so the median is "
    "close to 6 months (182.6 d); the abstract gives no range.",
)
#: serum half-life of the M-protein by isotype
HALF_LIVES = MappingProxyType(
    {
        "IgG": Rate(
            21.0,
            "day",
            "PMC:PMC11448508",
            low=21.0,
            high=24.0,
            verified=False,
            note="review table (Cancer Immunol Immunother 2024, DOI:10.1007/s00262-024-03814-2): "
            "biological half-life 21-24 d for IgG1, IgG2 and IgG4, 7-8 d for IgG3; ~21 d also in "
            "Bradwell, Serum Free Light Chain Analysis, section 3.5.1 (copy read); secondary.",
        ),
        "IgA": Rate(
            5.9,
            "day",
            "PMID:4717094",
            low=4.5,
            high=5.9,
            note="Morell-type turnover of radio-iodinated IgA myeloma proteins (Clin Exp Immunol "
            "1973): biologic half-life 5.9 d IgA1, 4.5 d IgA2.",
        ),
        "light_chain": Rate(
            4.0 / 24.0,
            "day",
            "Bradwell, Serum Free Light Chain Analysis, section 3.5.1",
            low=2.0 / 24.0,
            high=6.0 / 24.0,
            verified=False,
            note="kappa 2-4 h, lambda 3-6 h with normal renal function (2-3 days in renal "
            "failure); read in a copy of the book (wikilite.com), no identifier.",
        ),
    }
)


@dataclass(frozen=True)
class TumourModel:
    """Parameters of the tumour / M-protein model (rates per day).

    Attributes
    ----------
    birth_rate : float
        Intrinsic birth rate at the untreated Proliferation readout (ln 2 / 46.8 d).
    net_rate : float
        Net growth of the untreated burden (ln 2 / 182.6 d).
    isotype : str
        ``IgG``, ``IgA`` or ``light_chain``: the half-life of the M-protein.
    m0_g_per_dL : float
        Serum M-protein at the start. A scale, not a sourced number: the response categories are
        relative, only progression's absolute rule (+0.5 g/dL) depends on it.
    death_scale : float
        Multiplies the death rate per unit of (Apoptosis + ImmuneKilling) fixed by the untreated
        balance (1.0 = as derived; see ``docs/dynamics.md``).
    growth_scale, sensitivity_scale : float
        One patient's tumour-kinetics multipliers (1.0 = the typical patient): the net untreated
        growth rate times `growth_scale`, the drug-induced part of the net rate times
        `sensitivity_scale` (:func:`scale_rates`; ``docs/dynamics.md``, "Between-patient
        tumour kinetics").
    resistance_per_day : float
        One patient's acquired-resistance rate lambda (per day, >= 0; 0 = none): the
        drug-induced part of the net rate decays as exp(-lambda t)
        (:func:`mmmech.dynamics.resistance.apply_resistance`).
    """

    birth_rate: float = math.log(2) / BIRTH_DOUBLING_DAYS.value
    net_rate: float = math.log(2) / UNTREATED_DOUBLING_DAYS.value
    isotype: str = "IgG"
    m0_g_per_dL: float = 3.0
    death_scale: float = 1.0
    growth_scale: float = 1.0
    sensitivity_scale: float = 1.0
    resistance_per_day: float = 0.0
    sources: tuple[str, ...] = field(
        default=(BIRTH_DOUBLING_DAYS.source, UNTREATED_DOUBLING_DAYS.source)
    )

    def __post_init__(self) -> None:
        if self.isotype not in HALF_LIVES:
            raise InvalidInputError(
                f"TumourModel(): isotype must be one of {', '.join(HALF_LIVES)}, got "
                f"{self.isotype!r}{did_you_mean(str(self.isotype), list(HALF_LIVES))}"
            )
        for name in (
            "birth_rate",
            "m0_g_per_dL",
            "death_scale",
            "growth_scale",
            "sensitivity_scale",
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v > 0):
                raise InvalidInputError(f"TumourModel(): {name} must be a number > 0, got {v!r}")
        lam = self.resistance_per_day
        if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not (0 <= lam < math.inf):
            raise InvalidInputError(
                f"TumourModel(): resistance_per_day must be a number >= 0, got {lam!r}"
            )
        if not (0 <= self.net_rate < self.birth_rate):
            raise InvalidInputError(
                f"TumourModel(): need 0 <= net_rate < birth_rate, got {self.net_rate!r}, "
                f"{self.birth_rate!r}"
            )

    @property
    def clearance_rate(self) -> float:
        """First-order clearance of the M-protein, per day."""
        return math.log(2) / HALF_LIVES[self.isotype].value

    def rates(self, p0: float, death0: float) -> tuple[float, float]:
        """``(g, d)`` per day per unit readout from the untreated readouts (Proliferation `p0`,
        Apoptosis + ImmuneKilling `death0`)."""
        if not (p0 > 0 and death0 > 0):
            raise InvalidInputError(
                f"TumourModel.rates(): the untreated Proliferation ({p0:g}) and Apoptosis + "
                f"ImmuneKilling ({death0:g}) must be > 0 to set the growth and death scales"
            )
        g = self.birth_rate / p0
        d = self.death_scale * (self.birth_rate - self.net_rate) / death0
        return g, d


def tumour_model(**changes: Any) -> TumourModel:
    """The default :class:`TumourModel` with `changes` (e.g. ``isotype="IgA"``)."""
    known = set(TumourModel.__dataclass_fields__)
    for k in changes:
        if k not in known:
            raise InvalidInputError(
                f"tumour_model(): unknown parameter {k!r}{did_you_mean(k, sorted(known))}"
            )
    return replace(TumourModel(), **changes)


def scale_rates(
    rate_per_day: np.ndarray,
    untreated: Any,
    growth: Any = 1.0,
    sensitivity: Any = 1.0,
) -> np.ndarray:
    """Net growth rates of patients whose tumour kinetics differ from the typical patient's.

    With ``r0`` the untreated net rate and ``E = r0 - rate`` the drug-induced part of the
    typical patient's net rate at each step, a patient with multipliers ``growth`` and
    ``sensitivity`` has

        rate_i = rate + (growth - 1) * max(r0, 0) - (sensitivity - 1) * max(E, 0)

    i.e. its untreated net growth is ``growth x r0`` and the tumour-suppressing part of the drug
    effect is ``sensitivity x E`` (a part that raises the rate, E < 0, is not scaled). So a
    higher `sensitivity` or a lower `growth` never raises the rate at any step, and the burden
    and M-protein (increasing in the rates, :func:`integrate`) are never higher.

    Parameters
    ----------
    rate_per_day : ndarray (R, K)
        The typical patient's net rate of each row on each step.
    untreated : float or array (R,)
        Each row's untreated net rate ``r0`` (per day).
    growth, sensitivity : float or array (R,)
        Multipliers > 0 per row.
    """
    r = np.asarray(rate_per_day, dtype=float)
    r0 = np.broadcast_to(np.asarray(untreated, dtype=float), r.shape[:1])[:, None]
    gs = np.broadcast_to(np.asarray(growth, dtype=float), r.shape[:1])[:, None]
    ss = np.broadcast_to(np.asarray(sensitivity, dtype=float), r.shape[:1])[:, None]
    if not (np.all(gs > 0) and np.all(ss > 0)):
        raise InvalidInputError("scale_rates(): growth and sensitivity must be > 0")
    effect = np.maximum(r0 - r, 0.0)
    return r + (gs - 1.0) * np.maximum(r0, 0.0) - (ss - 1.0) * effect


def integrate(
    rate_per_day: np.ndarray, dt_days: float, clearance: float, m0: float
) -> tuple[np.ndarray, np.ndarray]:
    """Burden and M-protein at the step ends, exactly for piecewise-constant net rates.

    Parameters
    ----------
    rate_per_day : ndarray (R, K)
        Net growth rate of each regimen on each of K steps of `dt_days`.
    clearance : float
        M-protein clearance per day; `m0` the M-protein at the start (burden 1).

    Returns
    -------
    (N, M) : ndarrays (R, K + 1), burden relative to the start and M-protein in g/dL.
    """
    r = np.asarray(rate_per_day, dtype=float)
    R, K = r.shape
    k = float(clearance)
    s = k * m0  # production per unit burden at the start's balance
    ek = math.exp(-k * dt_days)
    # the step factors of all steps at once (elementwise, the same numbers as step by step);
    # then the two recursions: N a running product, M one multiply-add per step
    er = np.exp(r * dt_days)
    denom = r + k
    small = np.abs(denom) < 1e-12
    frac = np.where(small, dt_days * ek, (er - ek) / np.where(small, 1.0, denom))
    N = np.empty((R, K + 1))
    N[:, 0] = 1.0
    N[:, 1:] = er
    np.multiply.accumulate(N, axis=1, out=N)
    made = np.ascontiguousarray((s * N[:, :-1] * frac).T)  # (K, R): s * N_j * frac_j
    Mt = np.empty((K + 1, R))
    Mt[0] = float(m0)
    for j in range(K):
        np.multiply(Mt[j], ek, out=Mt[j + 1])
        Mt[j + 1] += made[j]
    return N, np.ascontiguousarray(Mt.T)
