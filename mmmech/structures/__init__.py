"""The structure layer: target registry, binding sites, numbering and mutations (Biopython).

Modules
-------
registry   targets and their structures (:func:`targets`, :func:`get_target`), loading and
           checking ``structures/targets.toml``
analysis   binding sites, interface contacts and residue correspondence in PDB/mmCIF files
mutations  mutation notation, numbering schemes and the potency shifts mutations cause
download   fetching PDB entries into a user cache (:func:`fetch`)
_pdb       PDB/mmCIF reading and residue helpers
"""

from .analysis import (
    binding_site,
    interface_contacts,
    load_structure,
    residue_correspondence,
    structure_sequence,
)
from .download import RCSB_URL, fetch
from .mutations import (
    Mutation,
    MutationWarning,
    PotencyShifts,
    check_mutation,
    convert_position,
    parse_mutation,
    potency_shifts,
    unique_mutations,
)
from .registry import (
    BindingSite,
    KnownMutation,
    NumberingScheme,
    StructureEntry,
    Target,
    get_target,
    targets,
)

__all__ = [
    "Target",
    "StructureEntry",
    "BindingSite",
    "KnownMutation",
    "NumberingScheme",
    "Mutation",
    "PotencyShifts",
    "MutationWarning",
    "targets",
    "get_target",
    "binding_site",
    "interface_contacts",
    "residue_correspondence",
    "parse_mutation",
    "convert_position",
    "check_mutation",
    "potency_shifts",
    "unique_mutations",
    "fetch",
    "load_structure",
    "structure_sequence",
    "RCSB_URL",
]
