"""An arm runs its patients in one simulate_cohort call with their own contexts and levels:
the same courses as one call per patient, and the patients' sampled levels are applied."""

import numpy as np

from mmmech.dynamics import simulate_cohort
from mmmech.trials import enrol
from mmmech.trials.arms import ISOTYPE_AS, simulate_arm


def test_arm_equals_one_cohort_call_per_patient():
    patients, _ = enrol("ndmm", 8, seed=5)
    assert len({tuple(p.contexts) for p in patients}) > 1
    assert all(p.levels for p in patients)
    arm = simulate_arm("Rd", patients, cycles=1, step_hours=6)
    assert not any("not applied" in n for n in arm.notes)
    for i, p in enumerate(patients):
        one = simulate_cohort(
            "Rd",
            [p.regimen_body()],
            cycles=1,
            step_hours=6,
            context=["marrow", *p.contexts],
            levels=[dict(p.levels)],
            isotypes=[ISOTYPE_AS.get(p.isotype, p.isotype)],
            m_protein=[p.m_protein_g_dL],
            tumour_scales=[dict(p.tumour)],
            resistance_per_day=[p.resistance_per_day],
        )
        assert arm.best_response[i] == one.best_response[0]
        red = 1.0 - one.m_protein[0].min() / one.m_protein[0, 0]
        np.testing.assert_allclose(arm.max_reduction[i], red, rtol=1e-9, atol=1e-12)
