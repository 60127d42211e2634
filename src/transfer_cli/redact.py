"""The one place secrets are taken out of text: everything the tool prints or writes passes here.

The settings register the API key when they read it; `redact` removes every registered secret
and any Authorization / api-key header value (a server may echo the request's headers in an
error body). The CLI wraps stdout and stderr in `RedactingStream`, so a notice, an error line, a
--debug traceback or a status message cannot carry a key whichever code path printed it; files
with text from a server (the run record) go through `redact` too.
"""

from __future__ import annotations

import io
import re
import threading

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
MASK = "***"
_HEADERS = re.compile(r"(?i)(\b(?:authorization|proxy-authorization|api[-_]?key|x-api-key)\b[\"']?\s*[:=]\s*[\"']?)"
                      r"(?:(?:bearer|basic|token)\s+)?[^\s\"',;}]{8,}")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")


def register(secret: str | None) -> None:
    """A value never to print: the API key (and anything that looks like one where a name belonged)."""
    if secret and len(secret) >= 4:
        with _LOCK:
            _SECRETS.add(secret)


def redact(text: str) -> str:
    if not text:
        return text
    for s in sorted(_SECRETS, key=len, reverse=True):
        if s in text:
            text = text.replace(s, MASK)
    text = _HEADERS.sub(lambda m: m.group(1) + MASK, text)
    return _BEARER.sub(lambda m: m.group(1) + MASK, text)


class RedactingStream(io.TextIOBase):
    """A text stream that redacts each write before passing it on (line-buffered streams stay so)."""

    def __init__(self, inner):
        self._inner = inner

    def write(self, s: str) -> int:
        self._inner.write(redact(s))
        return len(s)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def fileno(self) -> int:
        return self._inner.fileno()

    @property
    def encoding(self):
        return self._inner.encoding

    @property
    def buffer(self):  # binary writes (rare: the memo's bytes) bypass, as they carry no server text
        return self._inner.buffer

    def __getattr__(self, name):
        return getattr(self._inner, name)


def install() -> None:
    """Wrap the process's stdout and stderr (once)."""
    import sys
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, RedactingStream):
            setattr(sys, name, RedactingStream(stream))
