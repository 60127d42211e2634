"""Where transfer keeps per-user files. One place, so tests can redirect them all at once.

TRANSFER_CACHE_DIR / TRANSFER_CONFIG_DIR override; otherwise the platform's user
directories (XDG on Linux).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    env = os.environ.get("TRANSFER_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("transfer", appauthor=False))


def config_dir() -> Path:
    env = os.environ.get("TRANSFER_CONFIG_DIR")
    if env:
        return Path(env)
    from platformdirs import user_config_dir
    return Path(user_config_dir("transfer", appauthor=False))
