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


def choose_engine(name: str | None = None, **llm):
    """--engine wins; otherwise the llm engine when a model is configured (flag, env or config file).

    `llm`: the llm engine's options (model, base_url, provider, prompts, no_cache); None means unset."""
    if name is None:
        from ...llm.config import model_configured
        name = "llm" if model_configured(llm.get("model"), llm.get("provider")) else "offline"
    if name == "llm":
        return get_engine("llm", **{k: v for k, v in llm.items() if v is not None})
    return get_engine(name)
