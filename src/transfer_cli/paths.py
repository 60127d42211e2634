"""Where transfer finds its files: per-user ones, and the data shipped with it.

TRANSFER_CACHE_DIR / TRANSFER_CONFIG_DIR / TRANSFER_DATA_DIR override the user files' places (one place, so tests
can redirect them all at once); otherwise the platform's user directories (XDG on Linux).
"""

from __future__ import annotations

import os
from importlib.resources import files
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


def data_dir() -> Path:
    """Files kept for the user, not rebuilt on demand like the cache: the run log."""
    env = os.environ.get("TRANSFER_DATA_DIR")
    if env:
        return Path(env)
    from platformdirs import user_data_dir
    return Path(user_data_dir("transfer", appauthor=False))


def bundled(name: str) -> Path:
    """A data folder shipped with transfer (`cases`, `prompts`): the package transfer_cli.<name>.

    Through importlib.resources, not a path relative to this file: in the repository the folders
    sit at the top, next to src/, and the build maps them into the package."""
    root = files(f"transfer_cli.{name}")
    if not isinstance(root, Path):  # a zipped install: the library and the prompt loader need files
        raise RuntimeError(f"transfer_cli.{name} is not a folder on disk ({root}); install transfer unzipped")
    return root
