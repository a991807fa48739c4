"""SOAP descriptors: cluster vs periodic box, unknown species, streamed = DScribe."""

import numpy as np
import pytest

from linmr import LinmrError
from linmr.analysis import solvation
from linmr.ml import descriptors
from linmr.system import clusters

from ..conftest import CHARGES, rattled


@pytest.fixture(scope="module")
def big_box(templates, masses):
    """A 3 M box of 15 Å: wide enough that no molecule reaches one Li through two periodic images."""
    from linmr.system import boxes, composition

    return boxes.build_box(templates, composition.composition(3.0, 1.2, 6, *masses), seed=5)


def test_soap_same_in_cluster_and_periodic_box(big_box):
    # cluster radius r_cut + 4 sigma: the cut holds every atom SOAP can see (see README)
    s = descriptors.SoapSettings(r_cut=3.0, sigma=0.3, n_max=3, l_max=3)
    feat = descriptors.Featurizer(s)
    li = [i for i, sym in enumerate(big_box.get_chemical_symbols()) if sym == "Li"]
    bulk = feat(big_box, li)
    for k, i in enumerate(li):
        c = clusters.cut_cluster(big_box, i, s.r_cut + 4 * s.sigma, CHARGES)
        x = feat(c, [0])[0]
        assert np.abs(x - bulk[k]).max() <= 1e-6 * max(1.0, np.abs(bulk[k]).max())
    # and a too-small cluster is visibly different, so the test can fail
    c = clusters.cut_cluster(big_box, li[0], 1.0, CHARGES)
    assert np.abs(feat(c, [0])[0] - bulk[0]).max() > 1e-3


def test_unknown_species_is_refused(box4):
    feat = descriptors.Featurizer(descriptors.SoapSettings(species=("Li", "C", "H", "O")))
    with pytest.raises(LinmrError, match=r"\['F', 'N', 'S'\]"):
        feat(box4, [0])


def test_stream_featurisation_is_bit_identical_to_dscribe(box4):
    from linmr.system import clusters

    from ..conftest import CHARGES

    s = descriptors.SoapSettings(r_cut=4.0, n_max=3, l_max=2, sigma=0.4)
    feat = descriptors.Featurizer(s)
    frames = rattled(box4, 3, scale=0.2, seed=5)
    li = [solvation.Topology(frames[0]).li] * 3
    assert np.array_equal(feat.stream(frames, li), feat.many(frames, li))
    cl = [clusters.cut_cluster(f, int(li[0][0]), 3.0, CHARGES) for f in frames]  # non-periodic
    assert np.array_equal(feat.stream(cl, [[0]] * 3), feat.many(cl, [[0]] * 3))
    assert np.abs(feat.stream(cl, [[0]] * 3)).max() > 0
