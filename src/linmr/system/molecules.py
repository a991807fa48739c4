"""Molecule templates from SMILES (RDKit conformers), as ASE ``Atoms``."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from ase import Atoms

from .. import LinmrError


@lru_cache(maxsize=None)
def _embed(smiles: str, seed: int) -> tuple[tuple[str, ...], tuple[tuple[float, float, float], ...], int]:
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise LinmrError(f"RDKit cannot parse SMILES {smiles!r}")
    mol = Chem.AddHs(mol)
    params = AllChem.ETKDGv3()
    params.randomSeed = int(seed)
    if AllChem.EmbedMolecule(mol, params) != 0:
        raise LinmrError(f"RDKit could not embed a 3D conformer for SMILES {smiles!r}")
    if AllChem.MMFFHasAllMoleculeParams(mol):
        AllChem.MMFFOptimizeMolecule(mol, maxIters=500)
    else:
        AllChem.UFFOptimizeMolecule(mol, maxIters=500)
    pos = mol.GetConformer().GetPositions()
    symbols = tuple(a.GetSymbol() for a in mol.GetAtoms())
    charge = sum(a.GetFormalCharge() for a in mol.GetAtoms())
    return symbols, tuple(map(tuple, pos)), int(charge)


def from_smiles(smiles: str, seed: int = 42) -> Atoms:
    """A 3D conformer of ``smiles`` (hydrogens added, MMFF-relaxed), centred at the origin.

    ``atoms.info`` holds ``smiles`` and the formal ``charge`` (e).
    """
    symbols, pos, charge = _embed(smiles, seed)
    atoms = Atoms(symbols=list(symbols), positions=np.array(pos))
    atoms.positions -= atoms.get_center_of_mass()
    atoms.info.update(smiles=smiles, charge=charge)
    return atoms


def molar_mass(smiles: str) -> float:
    """Molar mass (g/mol) of all fragments of ``smiles`` together."""
    from rdkit import Chem
    from rdkit.Chem import Descriptors

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise LinmrError(f"RDKit cannot parse SMILES {smiles!r}")
    return float(Descriptors.MolWt(mol))
