"""Model configuration: flags > environment > config file > defaults.

The config file is TOML: `config.toml` in the user config directory, then `./transfer.toml`
(the project file wins where both set a value). Named endpoint profiles live under
`[providers.NAME]`; `provider = "NAME"` at the top (or TRANSFER_PROVIDER, or --provider) picks
one. A profile chosen with --provider counts as a flag: its values beat the environment.

Secrets: the key is read from the environment variable the profile names (`api_key_env`,
default OPENAI_API_KEY) and is never stored, printed or hashed into anything; `Settings`
shows it redacted.
"""

from __future__ import annotations

import os
import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser under its old name
    import tomli as tomllib  # type: ignore[no-redef]
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..errors import InputError
from ..paths import config_dir
from ..redact import register

OPENAI_URL = "https://api.openai.com/v1"
MODES = ("auto", "json_schema", "json_object", "tools", "text")
PROFILE_KEYS = {"base_url", "model", "api_key_env", "mode", "prices", "context_window", "max_output_tokens",
                "rpm", "tpm", "timeout", "deadline", "retries", "temperature",
                # the Batch API (batch/batchapi.py): how `transfer batch` runs, prices, per-file limits, polling
                "batch_via", "batch_prices", "batch_half_price", "batch_max_requests", "batch_max_bytes", "batch_poll"}
VIAS = ("local", "batch-api")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# what each setting must be: (type, lowest, highest); a number out of range would fail deep inside a run
_TEXT = (str, None, None)
VALUE_RULES = {"base_url": _TEXT, "model": _TEXT, "api_key_env": _TEXT, "mode": _TEXT, "provider": _TEXT,
               "context_window": (int, 256, None), "max_output_tokens": (int, 256, None), "rpm": (float, 1e-9, None),
               "tpm": (float, 1e-9, None), "timeout": (float, 1e-3, None), "deadline": (float, 1e-3, None), "retries": (int, 0, 100),
               "retry_base": (float, 0, 3600), "temperature": (float, 0, 2), "batch_via": _TEXT,
               "batch_max_requests": (int, 1, None), "batch_max_bytes": (int, 1024, None), "batch_poll": (float, 1e-3, None)}


def check_value(where: str, name: str, value) -> None:
    """An InputError naming `where` and the setting when a value has the wrong type or range."""
    import math
    if name == "batch_half_price":
        if not isinstance(value, bool):
            raise InputError(f"{where}: {name}: must be true or false, not {value!r}")
        return
    if name == "batch_via" and value not in VIAS:
        raise InputError(f"{where}: {name}: must be one of {', '.join(VIAS)}, not {value!r}")
    if name in ("prices", "batch_prices"):
        if not isinstance(value, dict) or not set(value) <= {"input", "output"} or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
                for v in value.values()):
            raise InputError(f"{where}: {name}: must be a table of input and output, non-negative USD per "
                             "million tokens, e.g. prices = { input = 0.15, output = 0.60 }")
        return
    kind, low, high = VALUE_RULES.get(name, (None, None, None))
    if kind is None:
        return
    if kind is str:
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{where}: {name}: must be a non-empty string, not {value!r}")
        return
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or (kind is int and not float(value).is_integer()) or not math.isfinite(value):
        raise InputError(f"{where}: {name}: must be {'a whole number' if kind is int else 'a number'}, not {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"at least {low:g}" if high is None else f"between {low:g} and {high:g}"
        raise InputError(f"{where}: {name}: must be {span}, not {value!r}")


@dataclass
class Settings:
    model: str | None = None
    base_url: str = OPENAI_URL
    provider: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    mode: str = "auto"
    prices: dict | None = None            # USD per million tokens: {"input": x, "output": y}
    context_window: int | None = None     # None: the model's known limits, else conservative ones (planner.py)
    max_output_tokens: int | None = None
    rpm: float | None = None
    tpm: float | None = None
    timeout: float = 300.0                # seconds of wall clock per attempt, however the server trickles
    deadline: float = 900.0               # seconds for a request with all its retries
    retries: int = 4                      # transport retries per request (timeouts, 429, 5xx)
    retry_base: float = 1.0               # first backoff in seconds; doubles per attempt
    temperature: float | None = 0.0
    # the Batch API: OpenAI's documented per-file limits (50,000 requests, 200 MB), seconds between polls
    batch_via: str = "local"
    batch_prices: dict | None = None      # USD per million tokens through the Batch API
    batch_half_price: bool = False        # no batch_prices: half of `prices`, where the provider says so
    batch_max_requests: int = 50_000
    batch_max_bytes: int = 200_000_000
    batch_poll: float = 30.0
    log: bool = True                      # the run log (runlog.py); `log = false` at the config file's top
    sources: dict = field(default_factory=dict)  # setting -> where it came from (for `doctor`)
    api_key: str | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return self.base_url.rstrip("/")

    def key_status(self) -> str:
        if not self.api_key:
            return f"not set ({self.api_key_env})"
        return f"set from {self.api_key_env} (redacted)"

    def cost(self, tokens_in: int, tokens_out: int) -> float | None:
        if not self.prices:
            return None
        return (tokens_in * float(self.prices.get("input", 0)) + tokens_out * float(self.prices.get("output", 0))) / 1e6

    def batch_cost(self, tokens_in: int, tokens_out: int) -> float | None:
        """What tokens cost through the Batch API: `batch_prices`, else half of `prices` where the
        profile says the provider halves them (batch_half_price), else unknown."""
        if self.batch_prices:
            return Settings(prices=self.batch_prices).cost(tokens_in, tokens_out)
        if self.batch_half_price and self.prices:
            return self.cost(tokens_in, tokens_out) / 2
        return None

    def public(self) -> dict:
        """Everything but the key, for `doctor` and dry runs."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("api_key", "sources")}
        out["api_key"] = self.key_status()
        return out


def cost_text(cost: float | None) -> str:
    """A cost as every output shows it: dollars, or "unknown" without prices (never $0: tokens were spent)."""
    if cost is None:
        return "unknown"
    return f"${cost:.4f}" if cost < 1 else f"${cost:.2f}"


def config_files() -> list[Path]:
    return [config_dir() / "config.toml", Path.cwd() / "transfer.toml"]


def read_files() -> dict:
    """The merged config files (later files win, profile by profile)."""
    merged: dict = {"providers": {}}
    for path in config_files():
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: cannot read: {e}")
        except tomllib.TOMLDecodeError as e:
            raise InputError(f"{path}: not valid TOML: {e}")
        if not isinstance(data.get("providers") or {}, dict):
            raise InputError(f"{path}: providers: must be a table of [providers.NAME] tables")
        for name, prof in (data.get("providers") or {}).items():
            if not isinstance(prof, dict):
                raise InputError(f"{path}: providers.{name}: must be a table")
            if "api_key" in prof:
                raise InputError(f"{path}: providers.{name}: put the key in an environment variable "
                                 "and name it with api_key_env")
            unknown = set(prof) - PROFILE_KEYS
            if unknown:
                raise InputError(f"{path}: providers.{name}: unknown key '{sorted(unknown)[0]}' "
                                 f"(known: {', '.join(sorted(PROFILE_KEYS))})")
            for k, v in prof.items():
                check_value(f"{path}: providers.{name}", k, v)
            merged["providers"].setdefault(name, {}).update(prof)
        for k, v in data.items():
            if k != "providers":
                check_value(str(path), k, v)
                merged[k] = v
    return merged


def _env_float(name: str) -> float | None:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise InputError(f"{name} must be a number, not '{raw}'")


def resolve(model: str | None = None, base_url: str | None = None, provider: str | None = None,
            mode: str | None = None) -> Settings:
    """The settings for one run. Raises InputError for an unknown provider or mode."""
    files = read_files()
    s = Settings()
    src: dict = {}

    def put(name, value, origin):
        if value is not None:
            setattr(s, name, value)
            src[name] = origin

    # config file: defaults at the top level, then the chosen profile
    for k in ("model", "base_url", "mode"):
        put(k, files.get(k), "config file")
    if not isinstance(files.get("log", True), bool):
        raise InputError(f"config file: log must be true or false, not {files['log']!r}")
    put("log", files.get("log"), "config file")
    chosen = provider or os.environ.get("TRANSFER_PROVIDER") or files.get("provider")
    profile = {}
    if chosen:
        if chosen not in files["providers"]:
            known = ", ".join(files["providers"]) or "none configured"
            raise InputError(f"unknown provider '{chosen}' (config files: {', '.join(map(str, config_files()))}; "
                             f"providers: {known})")
        profile = files["providers"][chosen]
        s.provider = chosen
    origin = f"providers.{chosen}"
    for k, v in profile.items():
        put(k, v, origin)
    # environment, unless --provider picked the profile explicitly
    env = {"model": os.environ.get("TRANSFER_MODEL"), "base_url": os.environ.get("OPENAI_BASE_URL"),
           "mode": os.environ.get("TRANSFER_MODE")}
    for k, v in env.items():
        if v and not (provider and k in profile):
            put(k, v, "environment")
    for name, key in (("timeout", "TRANSFER_TIMEOUT"), ("deadline", "TRANSFER_DEADLINE"),
                      ("retry_base", "TRANSFER_RETRY_BASE"), ("retries", "TRANSFER_RETRIES"),
                      ("context_window", "TRANSFER_CONTEXT_WINDOW"), ("max_output_tokens", "TRANSFER_MAX_OUTPUT")):
        value = _env_float(key)
        if value is not None:
            check_value(key, name, value)
            put(name, int(value) if VALUE_RULES[name][0] is int else value, "environment")
    # flags
    put("model", model, "flag")
    put("base_url", base_url, "flag")
    put("mode", mode, "flag")
    if s.mode not in MODES:
        raise InputError(f"unknown structured-output mode '{s.mode}'; choose one of: {', '.join(MODES)}")
    if not isinstance(s.api_key_env, str) or not _ENV_NAME.fullmatch(s.api_key_env) or _looks_like_key(s.api_key_env):
        register(str(s.api_key_env))
        raise InputError(f"{origin if 'api_key_env' in profile else 'config'}: api_key_env must name an environment "
                         "variable (such as OPENAI_API_KEY); its value looks like a key itself and is not shown")
    s.api_key = os.environ.get(s.api_key_env) or None
    register(s.api_key)
    for name in ("context_window", "max_output_tokens"):
        v = getattr(s, name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 256):
            raise InputError(f"{src.get(name, 'config')}: {name} must be a whole number of tokens (at least 256), "
                             f"not {v!r}")
    if s.context_window is None or s.max_output_tokens is None:
        from .planner import limits
        window, output = limits(s.model)
        if s.context_window is None:
            s.context_window, src["context_window"] = window, "model default"
        if s.max_output_tokens is None:
            s.max_output_tokens, src["max_output_tokens"] = min(output, s.context_window // 2), "model default"
    if s.max_output_tokens >= s.context_window:
        raise InputError(f"max_output_tokens ({s.max_output_tokens:,}) must be below context_window "
                         f"({s.context_window:,})")
    s.sources = src
    return s


def _looks_like_key(name: str) -> bool:
    """An environment variable's name is upper case by custom; a long mixed-case name with digits is a key."""
    return len(name) >= 20 and any(c.islower() for c in name) and any(c.isdigit() for c in name)


def model_configured(model: str | None = None, provider: str | None = None) -> bool:
    """Whether a run has a model: the llm engine is then the default."""
    return bool(resolve(model=model, provider=provider).model)


def rate_limits(rpm: float | None = None, tpm: float | None = None,
                provider: str | None = None) -> tuple[float | None, float | None]:
    """The batch runner's (rpm, tpm): the flags first, else the chosen provider's profile."""
    if rpm is not None and tpm is not None:
        return rpm, tpm
    s = resolve(provider=provider)
    return (rpm if rpm is not None else s.rpm, tpm if tpm is not None else s.tpm)
