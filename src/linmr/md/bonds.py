"""On-the-fly bond-topology monitor for molecular MD (DME, FSI- ...).

The bonds are taken once from the starting box: two atoms of the same molecule
(per-atom array ``mol_id``) closer than ``detect_factor`` x the sum of their covalent
radii. During MD a bond counts as *broken* only when it is longer than
``break_factor`` x that sum in ``persist_checks`` consecutive checks. Both conditions
matter: CHGNet stretches FSI- S-F bonds to 1.67-1.71 Å on average (1.58 Å expected)
with single excursions to 1.96 Å that return within a vibration period (about 40 fs),
so a naive 1.2 x cutoff (1.94 Å for S-F) would fire on vibrations. With the default
1.5 x (2.43 Å for S-F, 1.60 Å for C-H, 2.13 Å for C-O) held over three checks 10 steps
apart, only an atom that has left its molecule trips the monitor.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.data import covalent_radii

from .. import LinmrError
from ..geometry import minimum_image

CONTACT_FACTOR = 0.5  # non-bonded atoms nearer than this x their covalent sum have fused (BondMonitor.close_contacts)


def bond_topology(atoms: Atoms, detect_factor: float = 1.2) -> tuple[np.ndarray, np.ndarray]:
    """Intramolecular bonds ``(i, j)`` of ``atoms`` (needs the per-atom array ``mol_id``)."""
    if "mol_id" not in atoms.arrays:
        raise LinmrError("bond monitor needs the per-atom array 'mol_id' in the box (extxyz column mol_id)")
    mol = atoms.arrays["mol_id"]
    radii = covalent_radii[atoms.numbers]
    pos = atoms.positions
    cell = atoms.cell.array if atoms.pbc.any() else None
    bi, bj = [], []
    for m in np.unique(mol):
        idx = np.flatnonzero(mol == m)
        if len(idx) < 2:
            continue
        ii, jj = np.triu_indices(len(idx), k=1)
        d = pos[idx[jj]] - pos[idx[ii]]
        if cell is not None:
            d = minimum_image(d, cell)
        r = np.linalg.norm(d, axis=1)
        ok = r < detect_factor * (radii[idx[ii]] + radii[idx[jj]])
        bi.append(idx[ii][ok])
        bj.append(idx[jj][ok])
    if not bi:
        return np.zeros(0, int), np.zeros(0, int)
    return np.concatenate(bi), np.concatenate(bj)


class BondMonitor:
    """Counts, per bond, consecutive checks beyond ``break_factor`` x covalent sum; raises at ``persist_checks``."""

    def __init__(self, atoms: Atoms, break_factor: float = 1.5, persist_checks: int = 3, detect_factor: float = 1.2):
        if break_factor <= detect_factor:
            raise LinmrError(
                f"md.bond_check.break_factor ({break_factor}) must exceed the bond detection factor {detect_factor}"
            )
        self.i, self.j = bond_topology(atoms, detect_factor)
        radii = covalent_radii[atoms.numbers]
        self.r_cov = radii[self.i] + radii[self.j]
        self.limit = break_factor * self.r_cov
        self.break_factor = break_factor
        self.persist_checks = int(persist_checks)
        self.count = np.zeros(len(self.i), dtype=int)
        self.symbols = atoms.get_chemical_symbols()
        self.mol_id = atoms.arrays["mol_id"]
        self.mol_name = atoms.arrays.get("mol_name")
        self.max_ratio = 0.0  # largest d / covalent sum seen (diagnostic)
        self.bonded = set(zip(np.minimum(self.i, self.j).tolist(), np.maximum(self.i, self.j).tolist()))

    @property
    def n_bonds(self) -> int:
        return len(self.i)

    def close_contacts(self, atoms: Atoms, factor: float = CONTACT_FACTOR) -> list[tuple[int, int, float]]:
        """Pairs of atoms not bonded to each other (bonds of the starting box) nearer than ``factor`` x their
        covalent sum, closest first: ``(i, j, distance in Å)``. Non-bonded atoms never come that close in a
        liquid (Li-O 1.9 Å is 1.0 x its sum, Li-Li in aggregates >= 2.6 Å); a pair that does has fused, which a
        potential out of its domain allows (two Li+ 0.6 Å apart in a student's production box)."""
        from ..readers import pairs_within

        radii = covalent_radii[atoms.numbers]
        pairs, d = pairs_within(atoms, factor * 2 * float(radii.max()), periodic=bool(atoms.pbc.any()))
        if not len(d):
            return []
        close = d < factor * (radii[pairs[:, 0]] + radii[pairs[:, 1]])
        out = [(int(a), int(b), float(r)) for (a, b), r in zip(pairs[close], d[close])
               if (min(a, b), max(a, b)) not in self.bonded]
        return sorted(out, key=lambda t: t[2])

    def lengths(self, atoms: Atoms) -> np.ndarray:
        d = atoms.positions[self.j] - atoms.positions[self.i]
        if atoms.pbc.any():
            d = minimum_image(d, atoms.cell.array)
        return np.linalg.norm(d, axis=1)

    def check(self, atoms: Atoms, where: str = "") -> float:
        """Update the counters from ``atoms``; raise :class:`LinmrError` on a broken bond.

        ``where`` names the phase/step/frame for the message. Returns the largest
        d / covalent-sum ratio of this check.
        """
        if self.n_bonds == 0:
            return 0.0
        r = self.lengths(atoms)
        over = r > self.limit
        self.count = np.where(over, self.count + 1, 0)
        ratio = float(np.max(r / self.r_cov))
        self.max_ratio = max(self.max_ratio, ratio)
        broken = np.flatnonzero(self.count >= self.persist_checks)
        if broken.size:
            k = broken[np.argmax(r[broken] / self.limit[broken])]
            a, b = int(self.i[k]), int(self.j[k])
            m = int(self.mol_id[a])
            name = f" ({self.mol_name[a]})" if self.mol_name is not None else ""
            raise LinmrError(
                f"bond broken at {where}: molecule {m}{name}, atoms {a} ({self.symbols[a]}) - {b} ({self.symbols[b]}) "
                f"{r[k]:.2f} Å apart, beyond {self.break_factor} x covalent sum = {self.limit[k]:.2f} Å in "
                f"{self.persist_checks} consecutive checks ({broken.size} bond(s) broken); the potential has left "
                "its domain (key md.bond_check)"
            )
        return ratio
