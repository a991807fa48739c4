"""SOAP descriptors of Li environments (DScribe), one featurizer for training and prediction.

The featurizer is built from a plain settings dict that travels inside the model
bundle, so a trajectory is featurised exactly as the training data was. Labelled
Li are featurised in the *periodic MD frame* the cluster was cut from (not in the
cut cluster), so training and prediction see the same environment by construction,
whatever the DFT cluster radius.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from ase import Atoms

from .. import LinmrError


@dataclass(frozen=True)
class SoapSettings:
    species: tuple[str, ...] = ("Li", "C", "H", "O", "N", "S", "F")
    r_cut: float = 4.5  # Å
    n_max: int = 4
    l_max: int = 3
    sigma: float = 0.4  # Å
    compression: dict = field(default_factory=lambda: {"mode": "off"})

    def as_dict(self) -> dict:
        d = asdict(self)
        d["species"] = list(self.species)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SoapSettings":
        d = dict(d)
        if "species" in d:
            d["species"] = tuple(d["species"])
        return cls(**d)


class Featurizer:
    """DScribe SOAP centred on chosen atoms; float32 output, one row per centre."""

    def __init__(self, settings: SoapSettings):
        self.settings = settings
        self._soap = {}

    def _get(self, periodic: bool):
        if periodic not in self._soap:
            from dscribe.descriptors import SOAP

            s = self.settings
            self._soap[periodic] = SOAP(
                species=list(s.species),
                r_cut=s.r_cut,
                n_max=s.n_max,
                l_max=s.l_max,
                sigma=s.sigma,
                periodic=periodic,
                compression=dict(s.compression),
                sparse=False,
                dtype="float32",
            )
        return self._soap[periodic]

    @property
    def n_features(self) -> int:
        return int(self._get(False).get_number_of_features())

    def check_species(self, atoms: Atoms, source: str = "structure") -> None:
        unknown = sorted(set(atoms.get_chemical_symbols()) - set(self.settings.species))
        if unknown:
            raise LinmrError(
                f"{source} contains element(s) {unknown} that the descriptor/model never saw "
                f"(species {list(self.settings.species)})"
            )

    def __call__(self, atoms: Atoms, centers, n_jobs: int = 1) -> np.ndarray:
        """SOAP vectors (float32, shape ``(len(centers), n_features)``) of ``centers`` in ``atoms``."""
        self.check_species(atoms)
        periodic = bool(atoms.pbc.any())
        x = self._get(periodic).create(atoms, centers=list(centers), n_jobs=n_jobs)
        return np.asarray(x, dtype=np.float32).reshape(len(centers), -1)

    def stream(self, frames: list[Atoms], centers) -> np.ndarray:
        """:meth:`many` for a chunk of MD frames (one topology, species already checked), with
        DScribe's per-frame Python set-up done once: one ``SOAPGTO`` extension object is built
        with the same arguments ``dscribe.descriptors.SOAP.create_single`` passes it and called
        frame by frame. Identical output to :meth:`many` (``tests/test_solvation_predict.py``
        checks bit equality); falls back to :meth:`many` for settings this path does not cover."""
        if not frames:
            return np.zeros((0, self.n_features), np.float32)
        periodic = bool(frames[0].pbc.any())
        soap = self._get(periodic)
        if getattr(soap, "_rbf", None) != "gto" or soap.average != "off" or not hasattr(soap, "_alphas"):
            return self.many(frames, centers, check=False)
        import dscribe.ext
        from ase.geometry.cell import complete_cell

        ext = dscribe.ext.SOAPGTO(
            soap._r_cut, soap._n_max, soap._l_max, soap._eta, soap._weighting, soap.average,
            soap.get_cutoff_padding(), soap._atomic_numbers, soap._species_weights, soap.periodic,
            soap.compression["mode"], soap._alphas.flatten(), soap._betas.flatten(),
        )
        n_feat = soap.get_number_of_features()
        out = np.empty((sum(len(c) for c in centers), n_feat), np.float32)
        k = 0
        for fr, c in zip(frames, centers):
            pos = np.array(fr.positions, dtype=np.float64)
            cell = fr.cell
            if periodic and cell.volume == 0:
                raise LinmrError("cannot compute a periodic descriptor on a zero-volume cell")
            mat = np.zeros((len(c), n_feat), np.float64)
            ext.create(mat, pos, np.asarray(fr.numbers), complete_cell(cell), np.asarray(fr.pbc, bool),
                       pos[np.asarray(c, dtype=np.int64)])
            out[k : k + len(c)] = mat
            k += len(c)
        return out

    def many(self, frames: list[Atoms], centers: list[list[int]], n_jobs: int = 1, check: bool = True) -> np.ndarray:
        """Stack of SOAP vectors for several frames (rows in frame order, then centre order).

        ``check=False`` skips the per-frame species check (the caller has checked the topology)."""
        if not frames:
            return np.zeros((0, self.n_features), np.float32)
        periodic = {bool(a.pbc.any()) for a in frames}
        if len(periodic) != 1:
            raise LinmrError("cannot featurise periodic and non-periodic structures in one call")
        if check:
            for a in frames:
                self.check_species(a)
        x = self._get(periodic.pop()).create(frames, centers=[list(c) for c in centers], n_jobs=n_jobs)
        return np.asarray(x, dtype=np.float32).reshape(-1, self.n_features)


def settings_from_config(cfg: dict) -> SoapSettings:
    return SoapSettings(
        species=tuple(cfg["species"]),
        r_cut=float(cfg["r_cut_A"]),
        n_max=int(cfg["n_max"]),
        l_max=int(cfg["l_max"]),
        sigma=float(cfg["sigma_A"]),
        compression=dict(cfg["compression"]),
    )


def labelled_features(shifts, trajectories: dict, featurizer: Featurizer):
    """SOAP of each DFT-labelled Li in the periodic MD frame its cluster was cut from.

    ``shifts`` is a table with ``concentration``, ``frame``, ``li_index``; ``trajectories``
    maps concentration label to a list of frames. Rows keep the order of ``shifts``.
    """
    frames, centers = [], []
    for row in shifts.itertuples():
        traj = trajectories[row.concentration]
        if int(row.frame) >= len(traj):
            raise LinmrError(f"cluster {row.cluster_id}: frame {row.frame} is beyond the {row.concentration} trajectory")
        frames.append(traj[int(row.frame)])
        centers.append([int(row.li_index)])
    return featurizer.many(frames, centers)
