"""GIAO NMR shieldings with PySCF and pyscf-properties.

pyscf-properties 0.1.0 needs two fixes to run with current PySCF; they are applied
at import time by :mod:`linmr.dft.pyscf_patches` and checked against NWChem in the tests.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from ase import Atoms

from .. import LinmrError
from .level import Level
from .pyscf_patches import apply as _apply_patches

PROGRAM = "pyscf"

# pyscf-properties announces its experimental modules on import; none of them is used here
warnings.filterwarnings("ignore", message=r"Module .* is under testing")


def program_version() -> str:
    import pyscf

    return f"pyscf {pyscf.__version__}"


def build_mol(atoms: Atoms, level: Level, verbose: int = 0):
    from pyscf import gto

    charge = int(atoms.info.get("charge", 0))
    mult = int(atoms.info.get("multiplicity", 1))
    mol = gto.Mole()
    mol.atom = [(s, tuple(p)) for s, p in zip(atoms.get_chemical_symbols(), atoms.positions)]
    mol.unit = "Angstrom"
    mol.basis = {s: level.basis_for(s) for s in set(atoms.get_chemical_symbols())}
    mol.charge = charge
    mol.spin = mult - 1
    mol.verbose = verbose
    try:
        mol.build()
    except Exception as exc:  # pyscf raises plain errors for bad charge/spin or unknown basis
        raise LinmrError(f"PySCF could not build the molecule (charge {charge}, multiplicity {mult}): {exc}") from exc
    if mol.spin != 0:
        raise LinmrError(f"only closed-shell clusters are supported, got multiplicity {mult}")
    return mol


# Primitive-pair screening threshold for the 3-centre integrals (SCF density fitting and
# GIAO): libcint's default, exp(-60), keeps pairs that contribute ~1e-26; 1e-11 drops
# only pairs whose product is below 1e-11, a relative error of ~1e-12 in the Coulomb
# matrices (1e-10 ppm in sigma(Li), measured on a 35-atom cluster) for 20-35% less
# integral time on 50-atom clusters.
INTEGRAL_SCREEN = 1e-11

# Auxiliary basis for pure functionals, which need only Coulomb fitting: Weigend's
# universal J-fitting basis has 40% fewer functions than PySCF's default JK-fitting choice
# for these basis sets and changes sigma(Li) by < 0.001 ppm. HF and hybrids keep the default.
J_AUXBASIS = "def2-universal-jfit"


def _aux_shell_blocks(auxmol, max_cols):
    """Consecutive auxiliary shell ranges ``(sh0, sh1, p0, p1)`` of at most ``max_cols`` functions."""
    ao_loc = auxmol.ao_loc_nr()
    blocks, sh0 = [], 0
    for sh in range(1, auxmol.nbas + 1):
        if sh == auxmol.nbas or ao_loc[sh + 1] - ao_loc[sh0] > max_cols:
            blocks.append((sh0, sh, int(ao_loc[sh0]), int(ao_loc[sh])))
            sh0 = sh
    return blocks


def fitted_density_coefficients(with_df, dm0):
    """Coefficients ``c = J^-1 (P|D)`` of the density fitted to the auxiliary basis.

    Reuses the SCF's Cholesky-decomposed 3-centre tensor ``B = L^-1 (P|ij)`` (``J = L L^T``,
    the decomposition PySCF uses when building it): ``c = L^-T (B D)``, so no 3-centre
    integrals are recomputed.
    """
    import scipy.linalg
    from pyscf import lib

    dm_tril = lib.pack_tril(dm0 + dm0.T - np.diag(dm0.diagonal()))  # B is stored for i >= j
    rho = np.concatenate([blk @ dm_tril for blk in with_df.loop()])
    j2c = with_df.auxmol.intor("int2c2e", hermi=1)
    try:
        low = scipy.linalg.cholesky(j2c, lower=True)
    except scipy.linalg.LinAlgError as exc:  # PySCF then switched to a pseudo-inverse
        raise LinmrError("auxiliary basis is linearly dependent; set giao_density_fit: false") from exc
    return scipy.linalg.solve_triangular(low, rho, lower=True, trans="T")


def giao_j_density_fitted(mol, auxmol, coeff, max_memory_mb=500):
    """GIAO two-electron Coulomb matrix (imaginary part) with density fitting.

    ``vj_x[ij] = -sum_P (g_x ij|P) c_P`` with the fitted density coefficients ``coeff``:
    the density-fitted form of ``pyscf.prop.nmr.rhf.get_jk``'s J (4-centre ``int2e_ig1``).
    The ``int3c2e_ig1`` integrals are antisymmetric in ``ij``, so only ``i >= j`` is
    computed, in auxiliary blocks of at most ``max_memory_mb``; nothing of size
    ``nao^2 naux`` is stored.
    """
    from pyscf import df, lib

    npair = mol.nao * (mol.nao + 1) // 2
    vj = np.zeros((3, npair))
    max_cols = max(1, int(max_memory_mb * 1e6 / 8 / (3 * npair)))
    with mol.with_integral_screen(INTEGRAL_SCREEN):
        for sh0, sh1, p0, p1 in _aux_shell_blocks(auxmol, max_cols):
            shls = (0, mol.nbas, 0, mol.nbas, sh0, sh1)
            g3c = df.incore.aux_e2(mol, auxmol, intor="int3c2e_ig1", aosym="s2ij", comp=3, shls_slice=shls)
            vj += g3c.reshape(3, npair, p1 - p0) @ coeff[p0:p1]
    return -lib.unpack_tril(vj, filltriu=lib.ANTIHERMI)


def giao_k_density_fitted(mol, dm0, auxmol):
    """GIAO two-electron exchange matrix (imaginary part) with density fitting.

    Same convention as the K of ``pyscf.prop.nmr.rhf.get_jk``, with
    ``(g ij|kl) ~ sum_PQ (g ij|P) [J^-1]_PQ (Q|kl)``. Needed only for HF and hybrid
    functionals; stores ``nao^2 naux``-sized arrays.
    """
    from pyscf import df

    nao, naux = mol.nao, auxmol.nao
    int3c = df.incore.aux_e2(mol, auxmol, intor="int3c2e", aosym="s1").reshape(nao * nao, naux)
    j2c = auxmol.intor("int2c2e", hermi=1)
    fitted = np.linalg.solve(j2c, int3c.T).reshape(naux, nao, nao)  # sum_Q J^-1_PQ (Q|kl)
    int3c = None
    dd = np.einsum("jk,Pkl->Pjl", dm0, fitted)
    fitted = None
    with mol.with_integral_screen(INTEGRAL_SCREEN):
        g3c = df.incore.aux_e2(mol, auxmol, intor="int3c2e_ig1", aosym="s1", comp=3).reshape(3, nao, nao, naux)
    vk = np.einsum("xijP,Pjl->xil", g3c, dd, optimize=True)
    return -(vk - np.swapaxes(vk, -1, -2))


def df_hybrid_vind(mf, mo_coeff, mo_occ, hyb: float):
    """The CPHF response of NMR (imaginary, antisymmetric first-order density) for a density-fitted global
    hybrid, with exchange built from orbitals: K[A C_o^T] = sum_P (L_P A)(L_P C_o)^T, A = C (2 U).

    PySCF's ``gen_vind`` builds K from the (non-symmetric) density matrix, nao^3 per auxiliary function; this
    costs nao^2 nocc, the same result (tested to 1e-7 ppm). The response of a pure functional to an imaginary
    perturbation is zero, J of an antisymmetric density is zero: only -hyb/2 K remains."""
    from pyscf import lib

    orbo = np.asarray(mo_coeff[:, mo_occ > 0], order="C")
    nao, nmo = mo_coeff.shape
    nocc = orbo.shape[1]
    with_df = mf.with_df
    blksize = max(4, int(min(with_df.blockdim, max(mf.max_memory - lib.current_memory()[0], 500) * 0.25e6 / 8
                             / (nao * nao + 4 * nao * nocc))))

    def vind(mo1):
        x = mo1.reshape(-1, nmo, nocc)
        a = np.einsum("pq,xqi->xpi", mo_coeff, 2 * x)  # (n, nao, nocc)
        m = np.zeros((len(x), nao, nao))
        for eri1 in with_df.loop(blksize):
            lp = lib.unpack_tril(eri1)  # (nb, nao, nao), symmetric
            lco = (lp @ orbo).transpose(1, 0, 2).reshape(nao, -1)  # (nao, nb*nocc)
            for k in range(len(x)):
                la = (lp @ a[k]).transpose(1, 0, 2).reshape(nao, -1)
                m[k] += la @ lco.T
        v1 = -0.5 * hyb * (m - m.transpose(0, 2, 1))
        return np.einsum("xpq,pi,qj->xij", v1, mo_coeff, orbo).ravel()

    return vind


def _grid_density(mf, dm):
    """The density matrix as handed to the XC grid code.

    PySCF builds the density on the grid from the occupied orbitals when ``dm`` carries
    them (one AO x orbital product per density component) and from the AO density
    matrix otherwise (one AO x AO product). With ~0.7 occupied orbitals per AO in these
    minimal-basis clusters, orbitals win for LDA (1 component) and lose for GGA
    (4 components: 40% slower per SCF cycle).
    """
    from pyscf import lib

    if mf._numint._xc_type(mf.xc) == "LDA":
        return lib.tag_array(dm, mo_coeff=mf.mo_coeff, mo_occ=mf.mo_occ)
    return np.asarray(dm)


def _numint_for_gga():
    """A ``NumInt`` that evaluates the density from the AO density matrix (see :func:`_grid_density`)."""
    from pyscf.dft import numint

    class AODensityNumInt(numint.NumInt):
        def nr_rks(self, mol, grids, xc_code, dms, *args, **kwargs):
            return super().nr_rks(mol, grids, xc_code, np.asarray(dms), *args, **kwargs)

    return AODensityNumInt()


def giao_fock_density_fitted(mf):
    """First-order GIAO Fock matrix (imaginary part) with a density-fitted two-electron term.

    Mirrors ``pyscf.prop.nmr.rhf.make_h10`` (HF) and ``pyscf.prop.nmr.rks.get_fock``
    (pure and global-hybrid functionals) with :func:`giao_j_density_fitted` and
    :func:`giao_k_density_fitted` in place of the 4-centre integrals; K is computed only
    when the method needs exact exchange.
    """
    from pyscf import lib
    from pyscf.prop.nmr import rks as rks_nmr

    mol = mf.mol
    dm0 = mf.make_rdm1()
    h1 = -0.5 * mol.intor("int1e_giao_irjxp", 3)
    h1 -= mol.intor_asymmetric("int1e_ignuc", 3)
    h1 -= mol.intor("int1e_igkin", 3)
    if mol.has_ecp():
        raise LinmrError("ECPs are not supported by the density-fitted GIAO path; set giao_density_fit: false")
    if not hasattr(mf, "xc"):  # Hartree-Fock
        hyb = 1.0
    else:
        ni = mf._numint
        omega, _alpha, hyb = ni.rsh_and_hybrid_coeff(mf.xc, mol.spin)
        if abs(omega) > 1e-10:
            raise LinmrError(f"range-separated functional {mf.xc} is not supported with giao_density_fit")
        max_memory = max(2000, mf.max_memory * 0.9 - lib.current_memory()[0])
        h1 -= rks_nmr.get_vxc_giao(ni, mol, mf.grids, mf.xc, _grid_density(mf, dm0), max_memory=max_memory)
    auxmol = mf.with_df.auxmol
    h1 += giao_j_density_fitted(mol, auxmol, fitted_density_coefficients(mf.with_df, dm0), mf.max_memory / 8)
    if abs(hyb) > 1e-10:
        h1 -= 0.5 * hyb * giao_k_density_fitted(mol, dm0, auxmol)
    return h1


def _with_vind(nmr_obj, vind):
    """``nmr_obj.kernel()`` with ``vind`` as the CPHF response (pyscf-properties looks ``gen_vind`` up in its
    module; it is restored afterwards)."""
    from pyscf.prop.nmr import rhf

    original = rhf.gen_vind
    rhf.gen_vind = lambda *args, **kw: vind
    try:
        return np.asarray(nmr_obj.kernel())
    finally:
        rhf.gen_vind = original


def shielding(
    atoms: Atoms,
    level: Level,
    atom_indices: list[int],
    max_memory_mb: int = 4000,
    conv_tol: float = 1e-8,
    max_cycle: int = 100,
    newton_cycles: int = 50,
    nproc: int | None = None,
) -> dict:
    """Isotropic GIAO shieldings (ppm) of ``atom_indices`` in ``atoms``.

    Returns ``{'sigma_iso_ppm': {index: value}, 'converged': bool, 'energy_Eh': float,
    'scf_s': float, 'nmr_s': float, 'nao': int}`` (``scf_s`` includes building the
    density-fitting tensor). A DIIS SCF that has not converged after ``max_cycle`` cycles
    continues with up to ``newton_cycles`` second-order cycles; a non-converged SCF raises
    :class:`LinmrError` (the caller records it as a failure). ``nproc`` is ignored: threads
    are set by the caller (``linmr.logs.set_threads``).
    """
    _apply_patches()
    from pyscf import dft, scf
    from pyscf.prop import nmr

    if level.solvent_epsilon is not None:
        raise LinmrError("dft.solvent (implicit solvent) is supported by the orca and gaussian backends only")
    mol = build_mol(atoms, level)
    mol.max_memory = max_memory_mb
    pure = False
    if level.method.upper() == "HF":
        mf = scf.RHF(mol)
    else:
        mf = dft.RKS(mol)
        mf.xc = level.method
        mf.grids.level = level.grid_level
        pure = not mf._numint.libxc.is_hybrid_xc(mf.xc)
        if mf._numint._xc_type(mf.xc) == "GGA":
            mf._numint = _numint_for_gga()
    mf.conv_tol = conv_tol
    mf.max_cycle = max_cycle
    mf.max_memory = max_memory_mb
    t0 = time.perf_counter()
    if level.density_fit:
        mf = mf.density_fit(auxbasis=J_AUXBASIS if pure else None)
        # build the 3-centre tensor now: without it PySCF recomputes 3-centre integrals
        # for J in every SCF cycle (8x slower for pure functionals on 50-atom clusters)
        mf.with_df.max_memory = max_memory_mb
        with mol.with_integral_screen(INTEGRAL_SCREEN):
            mf.with_df.build()
    energy = mf.kernel()
    solver = "DIIS"
    if not mf.converged and newton_cycles > 0:
        # small-gap clusters (a Li caught between shells, minimal basis) can make DIIS oscillate:
        # continue from its orbitals with the second-order (Newton) solver before giving up
        soscf = mf.newton()
        soscf.max_cycle = newton_cycles
        energy = soscf.kernel(mf.mo_coeff, mf.mo_occ)
        mf.mo_coeff, mf.mo_occ, mf.mo_energy = soscf.mo_coeff, soscf.mo_occ, soscf.mo_energy
        mf.e_tot, mf.converged = soscf.e_tot, soscf.converged
        solver = "DIIS+Newton"
    t1 = time.perf_counter()
    if not mf.converged:
        raise LinmrError(
            f"SCF did not converge in {max_cycle} DIIS + {newton_cycles} Newton cycles (E = {energy:.8f} Eh)"
        )
    n = nmr.RHF(mf) if level.method.upper() == "HF" else nmr.RKS(mf)
    n.shielding_nuc = list(atom_indices)
    if level.density_fit and level.giao_density_fit:
        h1 = giao_fock_density_fitted(mf)
        n.get_fock = lambda dm0=None, gauge_orig=None: h1
    vind = None
    if level.density_fit and level.method.upper() != "HF" and not pure:
        omega, _, hyb = mf._numint.rsh_and_hybrid_coeff(mf.xc, spin=mol.spin)
        if omega == 0:  # global hybrid: orbital-factored exchange response (range-separated: PySCF's own)
            vind = df_hybrid_vind(mf, mf.mo_coeff, mf.mo_occ, hyb)
    tensors = _with_vind(n, vind) if vind is not None else np.asarray(n.kernel())
    t2 = time.perf_counter()
    sigma = {int(i): float(np.trace(t) / 3.0) for i, t in zip(atom_indices, tensors)}
    return {
        "sigma_iso_ppm": sigma,
        "converged": True,
        "scf_solver": solver,
        "energy_Eh": float(energy),
        "scf_s": t1 - t0,
        "nmr_s": t2 - t1,
        "nao": int(mol.nao),
    }
