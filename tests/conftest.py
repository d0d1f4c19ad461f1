"""Test settings shared by every test file."""

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")  # no display: figures render off-screen

# Property tests draw the same examples on every run (the suite is deterministic) and
# have no per-example deadline (timings on a loaded 2-core machine vary).
settings.register_profile("siamlab", derandomize=True, deadline=None, max_examples=100)
settings.load_profile("siamlab")
