"""Shared test setup: no network, deterministic hashing, small helpers."""

from __future__ import annotations

import os

# forced, not defaulted: an environment that says HF_HUB_OFFLINE=0 must not let a test reach the Hub
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# llama.cpp's OpenMP threads spin while waiting; on a busy 2-core machine that starves every other
# process (a 15 s notebook test timed out at 600 s). Passive waiting costs nothing when idle.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Property tests draw the same examples on every run (a suite that fails at random is a defect);
# HYPOTHESIS_PROFILE=explore draws new ones each run, to hunt for cases when changing a normaliser.
from hypothesis import settings  # noqa: E402

settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))
