"""The trial's batched toxicity courses (tox.patient_courses) against patient_course one
patient at a time: the same doses and records (differential), for any batch."""

import pytest

from mmmech import pk, populations
from mmmech.trials import tox
from mmmech.trials.run import enrol


@pytest.mark.parametrize("arm", ["Rd", "VRd", {"regimen": "vrd", "drop": ["lenalidomide"]}])
def test_batched_courses_equal_one_by_one(arm):
    pop = populations.load("ndmm")
    patients, _ = enrol(pop, 8, 1)
    drugs = tox._variant(arm, "trial").drugs
    etas = [pk.patient_etas("ndmm", p.index, 1, drugs) for p in patients]
    batch = tox.patient_courses(arm, patients, 4, "ndmm", 1, pk_etas=etas)
    alone = [
        tox.patient_course(arm, p, 4, "ndmm", 1, pk_etas=e)
        for p, e in zip(patients, etas, strict=True)
    ]
    assert batch == alone  # doses given (event by event) and records identical
    # split differently: the same again
    split = tox.patient_courses(arm, patients[5:], 4, "ndmm", 1, pk_etas=etas[5:])
    split = tox.patient_courses(arm, patients[:5], 4, "ndmm", 1, pk_etas=etas[:5]) + split
    assert split == batch
    assert tox.patient_courses(arm, [], 4, "ndmm", 1) == []


def test_pieces_of_the_batch_change_nothing(monkeypatch):
    pop = populations.load("ndmm")
    patients, _ = enrol(pop, 7, 1)
    etas = [
        pk.patient_etas("ndmm", p.index, 1, ("lenalidomide", "dexamethasone")) for p in patients
    ]
    whole = tox.patient_courses("Rd", patients, 3, "ndmm", 1, pk_etas=etas)
    monkeypatch.setattr(tox, "_TOX_CHUNK", 3)  # pieces of 3, 3 and 1 patients
    assert tox.patient_courses("Rd", patients, 3, "ndmm", 1, pk_etas=etas) == whole
