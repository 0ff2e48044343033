"""The structure layer: target registry, binding sites, numbering and mutations (Biopython).

Modules
-------
_registry  targets and their structures (:func:`targets`, :func:`get_target`), binding sites and
           interfaces, residue numbering, mutations and the potency shifts they cause, fetching
_pdb       PDB/mmCIF reading and residue helpers
"""
from ._registry import (
    Target, StructureEntry, BindingSite, KnownMutation, NumberingScheme, Mutation,
    PotencyShifts, MutationWarning, targets, get_target, binding_site, interface_contacts,
    residue_correspondence, parse_mutation, convert_position, check_mutation, potency_shifts,
    unique_mutations, fetch, load_structure, structure_sequence, RCSB_URL,
)

__all__ = ["Target", "StructureEntry", "BindingSite", "KnownMutation", "NumberingScheme", "Mutation", "PotencyShifts", "MutationWarning", "targets", "get_target", "binding_site", "interface_contacts", "residue_correspondence", "parse_mutation", "convert_position", "check_mutation", "potency_shifts", "unique_mutations", "fetch", "load_structure", "structure_sequence", "RCSB_URL"]
