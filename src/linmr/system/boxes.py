"""Periodic electrolyte boxes packed with packmol."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read, write

from .. import LinmrError
from ..geometry import minimum_image
from .composition import Composition


def packmol_executable() -> str:
    """The packmol binary: the one the PyPI ``packmol`` package ships, else the first on PATH."""
    try:
        import packmol

        shipped = Path(packmol.__file__).parent / "binaries" / "packmol"
        if shipped.is_file():
            return str(shipped)
    except ImportError:
        pass
    exe = shutil.which("packmol")
    if exe is None:
        raise LinmrError("packmol executable not found (pip install packmol, or put packmol on PATH)")
    return exe


def pack(
    molecules: list[tuple[str, Atoms, int]],
    cell_length: float,
    seed: int = 1,
    tolerance: float = 2.0,
    retries: int = 3,
) -> Atoms:
    """Pack ``(name, template, count)`` molecules into a periodic cube of edge ``cell_length`` (Å).

    Uses packmol's ``pbc`` keyword, so molecules may cross the faces of the cell and
    distances are checked through the periodic boundaries. The result carries the
    per-atom arrays ``mol_id`` (0-based molecule index) and ``mol_name``.
    A failed pack is retried with a new seed ``retries`` times, then raises.
    """
    exe = packmol_executable()
    last_log = ""
    for attempt in range(retries + 1):
        this_seed = seed + 1000 * attempt
        with tempfile.TemporaryDirectory(prefix="linmr-packmol-") as tmp:
            tmp = Path(tmp)
            lines = [
                f"tolerance {tolerance}",
                "filetype xyz",
                "output packed.xyz",
                f"seed {this_seed}",
                f"pbc 0. 0. 0. {cell_length:.4f} {cell_length:.4f} {cell_length:.4f}",
            ]
            for name, template, count in molecules:
                if count <= 0:
                    continue
                write(tmp / f"{name}.xyz", template, format="xyz")
                lines += [
                    f"structure {name}.xyz",
                    f"  number {count}",
                    f"  inside box 0. 0. 0. {cell_length:.4f} {cell_length:.4f} {cell_length:.4f}",
                    "end structure",
                ]
            (tmp / "pack.inp").write_text("\n".join(lines) + "\n")
            with open(tmp / "pack.inp") as stdin:
                proc = subprocess.run([exe], stdin=stdin, cwd=tmp, capture_output=True, text=True)
            last_log = proc.stdout[-2000:] + proc.stderr[-2000:]
            out = tmp / "packed.xyz"
            if proc.returncode == 0 and out.exists() and "Success!" in proc.stdout:
                atoms = read(out, format="xyz")
                break
    else:
        raise LinmrError(
            f"packmol failed to pack a {cell_length:.2f} Å box after {retries + 1} seeds; last output:\n{last_log}"
        )
    mol_id, mol_name = [], []
    k = 0
    for name, template, count in molecules:
        for _ in range(max(count, 0)):
            mol_id += [k] * len(template)
            mol_name += [name] * len(template)
            k += 1
    if len(mol_id) != len(atoms):
        raise LinmrError(f"packmol returned {len(atoms)} atoms, expected {len(mol_id)}")
    atoms.set_cell([cell_length] * 3)
    atoms.set_pbc(True)
    atoms.wrap()
    atoms.set_array("mol_id", np.array(mol_id, dtype=int))
    atoms.set_array("mol_name", np.array(mol_name, dtype="<U8"))
    return atoms


def min_intermolecular_distance(atoms: Atoms) -> float:
    """Smallest distance (Å, minimum image) between atoms of different molecules.

    Each atom's nearest neighbours are found with a periodic k-d tree, as many as the largest molecule has
    atoms (plus one), so the nearest atom of another molecule is always among them; a skewed cell falls back
    to ASE's dense distance matrix."""
    from scipy.spatial import cKDTree

    from ..geometry import is_orthogonal

    mol = atoms.get_array("mol_id")
    cell = atoms.cell.array
    if not (atoms.pbc.all() and is_orthogonal(cell)):
        d = atoms.get_all_distances(mic=True)
        d[mol[:, None] == mol[None, :]] = np.inf
        return float(d.min())
    box = np.diag(cell).copy()
    pos = np.mod(atoms.positions, box)
    pos[pos >= box] = 0.0
    k = min(len(atoms), int(np.bincount(mol).max()) + 1)
    dist, idx = cKDTree(pos, boxsize=box).query(pos, k=k)
    dist = np.where(mol[idx] == mol[:, None], np.inf, dist)
    return float(dist.min())


def _site_distances(cand, positions, cell, cations, donor_idx, r_count, others=None):
    """For each candidate site: the distance (Å, minimum image) to the nearest atom and to the nearest cation
    (inf without cations), the number of donor atoms within ``r_count`` Å and the distance to the nearest atom of
    ``others`` (indices; inf where None or empty). Periodic k-d trees keep this linear in the box size (a dense
    distance matrix of a 4,500-atom box would need tens of GB); a skewed cell falls back to the dense
    minimum-image matrix."""
    from scipy.spatial import cKDTree

    from ..geometry import is_orthogonal

    others = np.asarray([] if others is None else others, dtype=int)
    if not is_orthogonal(cell):
        d = np.linalg.norm(minimum_image(cand[:, None, :] - positions[None, :, :], cell), axis=-1)

        def nearest(idx):
            return d[:, idx].min(axis=1) if len(idx) else np.full(len(cand), np.inf)

        return d.min(axis=1), nearest(cations), (d[:, donor_idx] <= r_count).sum(axis=1), nearest(others)
    box = np.diag(cell).copy()

    def wrapped(x):
        x = np.mod(x, box)
        x[x >= box] = 0.0
        return x

    c = wrapped(np.array(cand, float))

    def nearest(idx):
        return (cKDTree(wrapped(positions[idx].copy()), boxsize=box).query(c, k=1)[0] if len(idx)
                else np.full(len(cand), np.inf))

    n_donors = cKDTree(wrapped(positions[donor_idx].copy()), boxsize=box).query_ball_point(c, r_count,
                                                                                           return_length=True)
    return nearest(np.arange(len(positions))), nearest(cations), np.asarray(n_donors), nearest(others)


def insert_cations(
    atoms: Atoms,
    n: int,
    symbol: str = "Li",
    name: str = "Li",
    donors: tuple[str, ...] = ("O", "N"),
    r_donor: float = 2.0,
    min_dist: float = 1.7,
    min_cation_dist: float = 3.5,
    seed: int = 0,
    n_directions: int = 300,
    clearance: float | None = None,
) -> Atoms:
    """Insert ``n`` monatomic cations where each binds the most donor atoms.

    A packed box leaves each small Li+ in a cavity at the packing tolerance (about 3.5 Å
    from the nearest oxygen), which a short-ranged MLIP with no electrostatics closes only
    slowly. Here each cation is placed at ``r_donor`` Å from a donor atom, in the direction
    that gives the most donors within ``r_donor + 0.5`` Å, at least ``min_dist`` Å from every
    other atom, ``clearance`` Å (where given) from every atom that is not a donor and
    ``min_cation_dist`` Å from other cations. Molecules are appended with new ``mol_id``s and
    ``mol_name`` ``name``.

    Without a clearance most Li+ of a workstation box start 1.7-2.3 Å from a DME hydrogen or
    carbon (a donor direction is drawn at random, not along a lone pair); a DeePMD student that
    binds Li+ there (the seventh workstation run: one Li+ in each of two boxes held among DME
    methyls for all 10 ps, where CHGNet pushes it out) keeps it for the whole run.
    """
    rng = np.random.default_rng(seed)
    out = atoms.copy()
    cell = np.asarray(out.cell)
    next_id = int(out.get_array("mol_id").max()) + 1
    for k in range(n):
        sym = np.array(out.get_chemical_symbols())
        donor_idx = np.flatnonzero(np.isin(sym, donors))
        if len(donor_idx) == 0:
            raise LinmrError(f"no donor atoms {donors} to bind {symbol}")
        dirs = rng.normal(size=(len(donor_idx), n_directions, 3))
        dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
        cand = (out.positions[donor_idx][:, None, :] + r_donor * dirs).reshape(-1, 3)
        cations = np.flatnonzero(sym == symbol)
        others = np.flatnonzero(~np.isin(sym, donors) & (sym != symbol)) if clearance else None
        d_min, d_cation, n_donors, d_other = _site_distances(cand, out.positions, cell, cations, donor_idx,
                                                             r_donor + 0.5, others)
        ok = d_min >= min(min_dist, r_donor) - 1e-9
        if clearance:
            ok &= d_other >= clearance - 1e-9
        if len(cations):
            ok &= d_cation >= min_cation_dist
        if not ok.any():
            far = f" and {clearance} Å from every non-donor atom (key box.cation_clearance_A)" if clearance else ""
            raise LinmrError(f"no site found to insert {symbol} #{k + 1} at {r_donor} Å from a donor{far}")
        score = n_donors + rng.uniform(0, 0.1, len(cand))
        # prefer more donors, then the roomiest site
        score = score + 0.2 * np.clip(d_min - min_dist, 0, 1)
        best = int(np.argmax(np.where(ok, score, -np.inf)))
        ion = Atoms(symbol, positions=[cand[best]])
        ion.set_array("mol_id", np.array([next_id]))
        ion.set_array("mol_name", np.array([name], dtype=out.get_array("mol_name").dtype))
        out += ion
        next_id += 1
    out.wrap()
    return out


def build_box(species: dict, comp: Composition, seed: int, tolerance: float = 2.0, solvate_cations: bool = True,
              clearance: float | None = None) -> Atoms:
    """A packed box for ``comp``; ``species`` maps role (cation/anion/solvent) to ``(name, Atoms)``.

    With ``solvate_cations`` (monatomic cations only) anions and solvent are packed by
    packmol and the cations inserted at donor sites by :func:`insert_cations` (``clearance``: Å
    from every non-donor atom, None: none beyond the 1.7 Å from any atom); otherwise all three are
    packed by packmol. Atom order: cations, anions, solvent either way.
    """
    cation_name, cation = species["cation"]
    anion_name, anion = species["anion"]
    solvent_name, solvent = species["solvent"]
    insert = solvate_cations and len(cation) == 1
    atoms = pack(
        [
            (cation_name, cation, 0 if insert else comp.n_salt),
            (anion_name, anion, comp.n_salt),
            (solvent_name, solvent, comp.n_solvent),
        ],
        comp.cell_length_A,
        seed=seed,
        tolerance=tolerance,
    )
    if insert:
        atoms = insert_cations(atoms, comp.n_salt, cation[0].symbol, cation_name, seed=seed, clearance=clearance)
        order = np.r_[np.arange(len(atoms) - comp.n_salt, len(atoms)), np.arange(len(atoms) - comp.n_salt)]
        atoms = atoms[order]
    gap = min_intermolecular_distance(atoms)
    # packmol's tolerance is a soft target; accept a small violation, refuse a real overlap
    closest = min(tolerance, 1.7) if insert else tolerance
    if gap < 0.75 * closest:
        raise LinmrError(f"packed box has atoms of different molecules {gap:.2f} Å apart (< 0.75 x {closest:.2f} Å)")
    atoms.info.update({k: v for k, v in comp.as_dict().items()})
    atoms.info["seed"] = seed
    atoms.info["min_intermolecular_distance_A"] = gap
    return atoms


def concentration_box(label: str, conc: dict, species: dict, tolerance_A: float, seed: int,
                      clearance_A: float | None = None) -> tuple[Atoms, dict]:
    """The packed box of one ``concentrations`` entry (molarity, density, n_salt) and its description.

    ``species`` is the config's ``species`` section (cation/anion/solvent: name, SMILES, charge).
    Returns the box (``atoms.info['concentration'] = label``) and a dict of the realised
    composition (molarity, molality, ratio, density, cell), atom count, seed and molar masses."""
    from .composition import composition
    from .molecules import from_smiles, molar_mass

    templates = {role: (species[role]["name"], from_smiles(species[role]["smiles"], seed=seed)) for role in species}
    m_salt = molar_mass(species["cation"]["smiles"]) + molar_mass(species["anion"]["smiles"])
    m_solv = molar_mass(species["solvent"]["smiles"])
    comp = composition(conc["molarity_mol_L"], conc["density_g_cm3"], conc["n_salt"], m_salt, m_solv)
    atoms = build_box(templates, comp, seed=seed, tolerance=tolerance_A, clearance=clearance_A)
    atoms.info["concentration"] = label
    meta = {
        "concentration": label,
        **comp.as_dict(),
        "n_atoms": len(atoms),
        "seed": seed,
        "cation_clearance_A": clearance_A,
        "min_intermolecular_distance_A": atoms.info["min_intermolecular_distance_A"],
        "salt_molar_mass_g_mol": m_salt,
        "solvent_molar_mass_g_mol": m_solv,
    }
    return atoms, meta
