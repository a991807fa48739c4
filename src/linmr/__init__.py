"""linmr: dynamic 7Li NMR of LiFSI/DME electrolytes by MLMD + DFT + machine learning.

One module per concept (composition, molecules, boxes, md, clusters, dft,
descriptors, model, spectra, solvation, plots). Nothing here imports Snakemake.
"""

__version__ = "0.1.0"


class LinmrError(RuntimeError):
    """The project's own clear error: the message names the file, key or atom at fault."""
