"""Engines implement the three stages: `offline` (deterministic, default) and `llm`."""

from __future__ import annotations

ENGINES = ("offline", "llm")


def get_engine(name: str, **options):
    """The engine by name; the llm engine is imported only when asked for (it pulls in openai)."""
    if name == "offline":
        from .offline import OfflineEngine
        return OfflineEngine()
    if name == "llm":
        from .llm import LLMEngine
        return LLMEngine(**options)
    from ...errors import InputError
    raise InputError(f"unknown engine '{name}'; choose one of: {', '.join(ENGINES)}")
