from ..md.conftest import PROTO, ROOT, _lmp_available, tiny_box  # noqa: F401  (shared fixtures)
