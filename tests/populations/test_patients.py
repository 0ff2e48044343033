"""Patient files: the bundled example loads into a Patient, BSA as the sampler computes it,
features add their populations' contexts, bad files give one-line errors with file and line."""

import math

import pytest

from mmmech import populations as P
from mmmech.exceptions import ModelFileError, UnknownNameError

GOOD = """\
name = "pt"
description = "test patient"
age = 70
weight_kg = 80.0
height_cm = 175.0
crcl_ml_min = 60.0
isotype = "IgA"
m_protein_g_dL = 2.0
contexts = ["t4_14"]
features = ["del17p", "hyperdiploid"]

[levels]
CD38Expression = 0.5

[health]
ecog = 2
frailty = "frail"
anc_10e9_L = 1.2
platelets_10e9_L = 90.0
hemoglobin_g_dL = 9.5
neuropathy_grade = 2
"""


def _write(tmp_path, text, name="pt.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_example_loads_with_every_field():
    assert P.available_patients() == ["example"]
    p = P.load_patient("example")
    assert P.load_patient("EXAMPLE") is p  # bundled names case-insensitive, cached
    assert isinstance(p, P.Patient) and p.name == "example" and p.origin == "patients/example.toml"
    assert p.isotype == "IgG" and p.m_protein_g_dL == 2.8 and p.age == 67
    # BSA computed from weight and height as the population sampler does (Mosteller)
    assert p.body["bsa_m2"] == P.bsa(78.0, 172.0) == pytest.approx(math.sqrt(78 * 172 / 3600))
    assert p.regimen_body().bsa_m2 == p.body["bsa_m2"]
    assert p.health.frailty == "intermediate" and p.health.ecog == 1
    assert p.covariates() == {
        "weight_kg": 78.0,
        "bsa_m2": p.body["bsa_m2"],
        "crcl_ml_min": 45.0,
        "age_years": 67.0,
        "non_igg_myeloma": 0.0,  # IgG: isatuximab's reference (Fau 2020)
    }
    d = p.to_dict()
    # the lenalidomide_refractory feature maps to the len_refractory context (populations/rrmm.toml)
    assert d["health"]["neuropathy_grade"] == 1 and d["contexts"] == ["gain1q", "len_refractory"]


def test_user_file_fields_and_feature_contexts(tmp_path):
    p = P.load_patient(_write(tmp_path, GOOD))
    # explicit contexts first, then the contexts the features map to in the bundled populations
    assert p.contexts == ("t4_14", "del17p")
    assert p.features == ("del17p", "hyperdiploid")
    assert dict(p.levels) == {"CD38Expression": 0.5}
    assert p.health == P.Health(2, "frail", 1.2, 90.0, 9.5, 2)
    assert p.body["crcl_ml_min"] == 60.0
    # a sampled patient has the new fields at their defaults
    s = P.sample("ndmm", 1, seed=0)[0]
    # (except the baseline platelet count the bundled populations now sample, [labs.platelets])
    assert s.health == P.Health(platelets_10e9_L=s.health.platelets_10e9_L)
    assert s.health.platelets_10e9_L is not None and s.name == "" and s.origin == ""


def test_health_and_levels_are_optional(tmp_path):
    text = GOOD.split("[levels]")[0]
    p = P.load_patient(_write(tmp_path, text))
    assert p.health == P.Health() and dict(p.levels) == {}


@pytest.mark.parametrize(
    "old, new, line, message",
    [
        ("age = 70", "age = 7", 3, r"'age' must be in \[18, 120\], got 7"),
        ('isotype = "IgA"', 'isotype = "IgAA"', 7, "did you mean 'IgA'"),
        ('contexts = ["t4_14"]', 'contexts = ["t4_41"]', 9, "unknown context 't4_41'"),
        ('"hyperdiploid"]', '"hyperdiploidy"]', 10, "did you mean 'hyperdiploid'"),
        ("CD38Expression = 0.5", "CD38Expresion = 0.5", 13, "did you mean 'CD38Expression'"),
        ("CD38Expression = 0.5", "CD38Expression = -1", 13, "relative level >= 0"),
        ("ecog = 2", "ecog = 5", 16, r"'ecog' must be an integer 0-4, got 5"),
        ('frailty = "frail"', 'frailty = "fragile"', 17, "IMWG frailty"),
        ("neuropathy_grade = 2", "neuropathy_grad = 2", 21, "did you mean 'neuropathy_grade'"),
        ("hemoglobin_g_dL = 9.5", 'hemoglobin_g_dL = "low"', 20, "must be a finite number"),
        ("weight_kg = 80.0", "weigth_kg = 80.0", 4, "did you mean 'weight_kg'"),
        ("m_protein_g_dL = 2.0", "m_protein_g_dL = 0", 8, "must be > 0 for IgA disease"),
        ('name = "pt"', 'name = ""', 1, "'name' must be a non-empty string"),
    ],
)
def test_bad_files_give_one_line_errors_with_file_and_line(tmp_path, old, new, line, message):
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ModelFileError, match=message) as info:
        P.load_patient(path)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"{path}, line {line}: "), text


def test_missing_fields_and_bad_toml(tmp_path):
    path = _write(tmp_path, GOOD.replace("crcl_ml_min = 60.0\n", ""))
    with pytest.raises(ModelFileError, match="missing 'crcl_ml_min'"):
        P.load_patient(path)
    path = _write(tmp_path, GOOD.replace('isotype = "IgA"', 'isotype = "nonsecretory"'), "n.toml")
    with pytest.raises(ModelFileError, match="nonsecretory patient has 'm_protein_g_dL' = 0"):
        P.load_patient(path)
    path = _write(tmp_path, GOOD.replace("age = 70", "age = = 70"), "bad.toml")
    with pytest.raises(ModelFileError, match="invalid TOML"):
        P.load_patient(path)
    with pytest.raises(UnknownNameError, match="did you mean 'example'"):
        P.load_patient("exampel")


def test_nonsecretory_patient(tmp_path):
    text = GOOD.replace('isotype = "IgA"', 'isotype = "nonsecretory"').replace(
        "m_protein_g_dL = 2.0", "m_protein_g_dL = 0"
    )
    p = P.load_patient(_write(tmp_path, text))
    assert p.m_protein_g_dL == 0 and any("nonsecretory" in n for n in p.notes)
