"""Bundled contexts: cell_line, marrow (cellular surroundings) and patient contexts (t11_14, t4_14,
maf, del17p, gain1q, ras, crbn_low, ikzf1_degron, cd38_loss, bcma_loss, gprc5d_loss,
psmb5_mutant, len_refractory, pi_refractory), which compose with them."""
