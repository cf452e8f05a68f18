"""Shared test settings for the unit tests in tests/."""
import os

from hypothesis import HealthCheck, settings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# TensorFlow's first call in a process is slow (kernel registration), so a
# per-example deadline would only measure warm-up. In CI the examples are
# derandomized, so a red run can be replayed exactly.
settings.register_profile("dev", deadline=None, max_examples=150)
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=150,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
