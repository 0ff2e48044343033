"""Toxicity per trial arm: each patient's course through the arm's dose-modification rules.

:func:`patient_toxicity` runs :func:`mmmech.toxicity.apply_dose_modifications` for one enrolled
patient (body for dosing, CrCl and age through :func:`mmmech.dynamics.feedback.patient_health`)
with a neutrophil drug sensitivity drawn from the patient's own keyed stream (a child of
:func:`mmmech.populations.stream`, so patient ``i`` has the same sensitivity in every arm, run,
batch and worker) and returns the small per-patient record the trial journals.
:func:`arm_toxicity` turns an arm's records into rates over its patients (the ``toxicity``
object of an arm in ``mmmech trial --json``).

:func:`patient_course` also returns the doses the patient was actually given (held,
reduced, discontinued; the renal starting dose): with ``run_trial(toxicity_feedback=True)``
the trial simulates efficacy on them (:func:`mmmech.dynamics.simulate_cohort`'s per-patient
``doses``). Without it, response and PFS stay on the planned doses (said in the trial's notes).
"""

from __future__ import annotations

import dataclasses
import math
import operator
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import populations as _populations
from ..dynamics.feedback import patient_health
from ..dynamics.regimen import _item
from ..populations import Patient
from ..regimens import DoseEvent, Regimen
from ..toxicity import apply_dose_modifications, apply_dose_modifications_batch, toxicity_data
from ..toxicity import myelosuppression as _ms
from ..toxicity import platelets as _plt

__all__ = [
    "patient_toxicity",
    "patient_course",
    "patient_courses",
    "arm_toxicity",
    "neutrophil_sensitivity",
    "toxicity_draws",
    "ROW_FIELDS",
]

#: most patients whose toxicity courses are integrated together (memory bound, results equal)
_TOX_CHUNK = 1024

#: a dose event's sort key (day, drug), without a Python lambda per event
_DAY_DRUG = operator.attrgetter("day", "drug")

#: fields of the per-patient record (journaled with the patient's row)
ROW_FIELDS = ("anc_grade", "plt_grade", "pn_grade", "reductions", "holds", "discontinued")


def neutrophil_sensitivity(population: str, index: int, seed: int) -> float:
    """Patient `index`'s multiplier on every drug's neutrophil effect: log-normal with the
    curated ``iiv_slope_var`` (``structures/toxicity.toml``), drawn from the first child of the
    patient's keyed stream (independent of the draws that made the patient)."""
    var = toxicity_data().systems["neutrophils"].iiv_slope_var
    rng = _populations.stream(population, index, seed).spawn(1)[0]
    return float(math.exp(rng.normal(0.0, math.sqrt(var))))


def toxicity_draws(population: str, index: int, seed: int) -> dict[str, float]:
    """Patient `index`'s platelet and neuropathy draws, each from its own named sub-stream
    (``SeedSequence(seed, spawn_key=(crc32(population), index, crc32(name)))``), so no
    existing draw of the patient changes: ``platelet_eta`` (standard normal: the platelet
    baseline when the patient has no platelet count), ``platelet_sensitivity`` (log-normal with
    the neutrophil ``iiv_slope_var``: a borrowed spread, no platelet-effect variability was
    read) and ``neuropathy_z`` (standard-normal quantile of the neuropathy thresholds)."""
    key = zlib.crc32(population.encode("utf-8"))

    def rng(name: bytes) -> np.random.Generator:
        seq = np.random.SeedSequence(seed, spawn_key=(key, index, zlib.crc32(name)))
        return np.random.Generator(np.random.PCG64(seq))

    var = toxicity_data().systems["neutrophils"].iiv_slope_var
    p = rng(b"platelets")
    return {
        "platelet_eta": float(p.normal()),
        "platelet_sensitivity": float(math.exp(p.normal(0.0, math.sqrt(var)))),
        "neuropathy_z": float(rng(b"neuropathy").normal()),
    }


def _variant(arm: Any, func: str) -> Regimen:
    """The arm's regimen with its variant applied: dropped drugs removed, ``dose_scale``
    multiplying a block's starting dose."""
    it = _item(arm, func)
    if not it.drop and not it.dose_scale:
        return it.regimen
    phases = []
    for ph in it.regimen.phases:
        blocks = []
        for b in ph.drugs:
            if b.drug in it.drop:
                continue
            f = it.dose_scale.get(b.drug)
            if f is not None and b.dose is not None:
                b = dataclasses.replace(b, dose=b.dose * float(f))
            blocks.append(b)
        phases.append(dataclasses.replace(ph, drugs=tuple(blocks)))
    return dataclasses.replace(it.regimen, phases=tuple(phases))


def patient_toxicity(
    arm: Any,
    patient: Patient,
    cycles: int,
    population: str,
    seed: int,
    pk_etas: Mapping[str, Mapping[str, float]] | None = None,
    backend: str = "auto",
) -> dict[str, Any]:
    """The per-patient toxicity record of `patient` on `arm` over `cycles` cycles:
    ``anc_grade`` (worst CTCAE grade of the modelled neutrophil count; 0 without a modelled
    drug), ``plt_grade`` (the same for the modelled platelet count), ``pn_grade`` (worst
    peripheral-neuropathy grade), ``reductions`` (dose reductions, including resumptions at a
    lower level), ``holds`` (hold actions), ``discontinued`` (a drug was discontinued).
    `pk_etas`: the patient's PK random effects (typical PK without). `backend`: the counts'
    integration (:func:`mmmech.toxicity.apply_dose_modifications`; the same records)."""
    return patient_course(arm, patient, cycles, population, seed, pk_etas, backend)[1]


def patient_course(
    arm: Any,
    patient: Patient,
    cycles: int,
    population: str,
    seed: int,
    pk_etas: Mapping[str, Mapping[str, float]] | None = None,
    backend: str = "auto",
) -> tuple[list[DoseEvent], dict[str, Any]]:
    """The doses `patient` was actually given on `arm` (one list by day, in mg; the variant's
    dropped drugs and dose scales applied) and the toxicity record of
    :func:`patient_toxicity`."""
    reg = _variant(arm, "trial")
    draws = toxicity_draws(population, patient.index, seed)
    given, course = apply_dose_modifications(
        reg,
        cycles,
        patient.regimen_body(),
        patient_health(patient),
        neutrophil_sensitivity=neutrophil_sensitivity(population, patient.index, seed),
        pk_etas=pk_etas,
        platelet_eta=draws["platelet_eta"],
        platelet_sensitivity=draws["platelet_sensitivity"],
        neuropathy_z=draws["neuropathy_z"],
        backend=backend,
    )
    return _record(given, course)


def patient_courses(
    arm: Any,
    patients: Sequence[Patient],
    cycles: int,
    population: str,
    seed: int,
    pk_etas: Sequence[Mapping[str, Mapping[str, float]] | None] | None = None,
    backend: str = "auto",
) -> list[tuple[list[DoseEvent], dict[str, Any]]]:
    """:func:`patient_course` for several patients of one arm at once
    (:func:`mmmech.toxicity.apply_dose_modifications_batch`: their counts integrated
    together): the same doses and records, patient by patient (tests/trials/
    test_trial_toxicity_batch.py), without the per-patient integration loop. `pk_etas`: one
    entry per patient (None: typical PK for all). `backend`: as :func:`patient_course`'s."""
    if not patients:
        return []
    reg = _variant(arm, "trial")
    etas = list(pk_etas) if pk_etas is not None else [None] * len(patients)
    out: list[tuple[list[DoseEvent], dict[str, Any]]] = []
    # in pieces of at most _TOX_CHUNK patients (memory: a cycle's drivers are about 100 kB a
    # patient; the integration's cost is mostly per step, so larger pieces are faster); a
    # patient's course does not depend on the others integrated with it
    for lo in range(0, len(patients), _TOX_CHUNK):
        part = patients[lo : lo + _TOX_CHUNK]
        draws = [toxicity_draws(population, p.index, seed) for p in part]
        res = apply_dose_modifications_batch(
            reg,
            cycles,
            [p.regimen_body() for p in part],
            [patient_health(p) for p in part],
            neutrophil_sensitivity=[
                neutrophil_sensitivity(population, p.index, seed) for p in part
            ],
            pk_etas=etas[lo : lo + _TOX_CHUNK],
            platelet_eta=[d["platelet_eta"] for d in draws],
            platelet_sensitivity=[d["platelet_sensitivity"] for d in draws],
            neuropathy_z=[d["neuropathy_z"] for d in draws],
            renal_details=False,  # the record needs the starting dose, not its explanation
            backend=backend,
        )
        out += [_record(given, course) for given, course in res]
    return out


def _record(
    given: Mapping[str, Sequence[DoseEvent]], course: Any
) -> tuple[list[DoseEvent], dict[str, Any]]:
    """The doses given (one list by day) and the per-patient toxicity record of a course."""
    events = sorted((e for evs in given.values() for e in evs), key=_DAY_DRUG)
    return events, {
        "anc_grade": course.worst_grade("anc"),
        "plt_grade": course.worst_grade("platelets"),
        "pn_grade": course.worst_grade("neuropathy"),
        "reductions": course.dose_reductions,
        "holds": sum(1 for a in course.actions if a["action"] == "hold"),
        "discontinued": bool(course.discontinued),
    }


def row_problem(rec: Any) -> str | None:
    """Why a journaled toxicity record cannot be used (None when it can)."""
    if not isinstance(rec, Mapping) or set(rec) != set(ROW_FIELDS):
        return "toxicity"
    for k in ROW_FIELDS[:-1]:
        v = rec[k]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            return "toxicity"
    return None if isinstance(rec["discontinued"], bool) else "toxicity"


def _label_block(
    inc: Sequence[Any], toxicity: str, grade: int = 3, note: str | None = None
) -> dict[str, Any] | None:
    """The label-incidence fallback for `toxicity` at grade >= `grade` of the arm's drugs
    (None when none)."""
    hits = [i for i in inc if i.toxicity == toxicity and i.grade == grade]
    if not hits:
        return None
    return {
        # the label incidence at its source dose (the highest when several drugs have one)
        "rate": max(float(i.incidence) for i in hits),
        "basis": "label_incidence",
        "dose_mg": [i.dose_mg for i in hits],
        "note": note or "label incidence at the source's dose, not modelled for this arm",
        "sources": sorted({i.source for i in hits}),
        "drugs": sorted({i.drug for i in hits}),
        "verified": all(i.verified for i in hits),
        # (low, high) over the sources when they disagree; None when every source agrees
        "range": _range(hits),
    }


def _range(hits: Sequence[Any]) -> list[float] | None:
    """[low, high] over the recorded source ranges of `hits` (None when none has one)."""
    spans = [i.incidence_range for i in hits if i.incidence_range is not None]
    if not spans:
        return None
    return [min(lo for lo, _ in spans), max(hi for _, hi in spans)]


#: the other dose-limiting toxicities, reported per arm as label incidences only:
#: (arm field, toxicity of structures/toxicity.toml, grade at least)
OTHER_LABEL_FIELDS = (
    ("crs_any", "crs", 1),
    ("crs_grade3", "crs", 3),
    ("infection_grade3", "infection", 3),
    ("cardiac_failure", "cardiac_failure", 3),
)

_OTHER_NOTE = (
    "label incidence, not modelled: the single-agent (or labelled-regimen / pooled) incidence "
    "of the drug whose source gives it, at that source's dose; not a prediction for this arm "
    "or combination"
)


def arm_toxicity(arm: Any, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Rates over the arm's patients (each a fraction in [0, 1]) and the label-incidence
    fallbacks of its drugs."""
    reg = _variant(arm, "trial")
    n = len(records)

    def frac(pred: Any) -> float:
        return sum(1 for r in records if pred(r)) / n

    modelled = sorted(set(_ms.effect_drugs("neutrophils")) & set(reg.drugs))
    # graded neuropathy (cumulative dose); thalidomide's is a probability by time, not a grade
    pn_drugs = sorted(set(toxicity_data().neuropathy) & set(reg.drugs))
    inc = [i for i in toxicity_data().incidences if i.drug in reg.drugs]
    fallbacks = [
        {
            "drug": i.drug,
            "toxicity": i.toxicity,
            "grade_at_least": i.grade,
            "incidence": i.incidence,
            "dose_mg": i.dose_mg,
            "dose_unit": i.dose_unit,
            "basis": i.basis,
            "source": i.source,
            "verified": i.verified,
        }
        for i in inc
    ]
    plt_modelled = sorted(set(_plt.effect_drugs()) & set(reg.drugs))
    # a drug with a platelet model needs no thrombocytopenia label fallback
    inc_label = [
        i for i in inc if not (i.toxicity == "thrombocytopenia" and i.drug in plt_modelled)
    ]
    label = {k: _label_block(inc_label, k) for k in ("neutropenia", "thrombocytopenia")}
    return {
        "patients": n,
        "grade3_neutropenia": frac(lambda r: r["anc_grade"] >= 3),
        "neutropenia_basis": "model" if modelled else "no modelled drug",
        "neutropenia_drugs": modelled,
        "grade3_neutropenia_label": label["neutropenia"],
        "grade3_thrombocytopenia": (
            frac(lambda r: r.get("plt_grade", 0) >= 3) if plt_modelled else None
        ),
        "thrombocytopenia_basis": "model" if plt_modelled else "no modelled drug",
        "thrombocytopenia_drugs": plt_modelled,
        "grade3_thrombocytopenia_label": label["thrombocytopenia"],
        "grade2_neuropathy": frac(lambda r: r["pn_grade"] >= 2),
        "grade3_neuropathy": frac(lambda r: r["pn_grade"] >= 3),
        "neuropathy_drugs": pn_drugs,
        "dose_reduced": frac(lambda r: r["reductions"] > 0),
        "held": frac(lambda r: r["holds"] > 0),
        "discontinued": frac(lambda r: r["discontinued"]),
        "label_incidence": fallbacks,
        **{
            key: _label_block(inc, tox, grade, _OTHER_NOTE)
            for key, tox, grade in OTHER_LABEL_FIELDS
        },
    }
