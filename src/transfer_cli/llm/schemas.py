"""The JSON schema a reply model goes out with: complete, closed, strict-mode valid.

OpenAI's strict mode (and the grammar a local server compiles from a schema) needs every object
closed (`additionalProperties: false`), every property required (optional ones nullable), no
`oneOf` and no `default`. Artifacts keep a factor's condition as plain data (a dict) so that
hand-edited files round-trip unchanged; here that open object becomes the condition language's
tagged union of closed objects, so a constrained decoder can only write a condition that parses.
What a schema cannot say (a vocabulary key, a note id) is checked after parsing and re-asked.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache

from pydantic import BaseModel

# properties that hold a condition as data (FactorSpec.condition, BoundSpec.done_if)
CONDITION_PROPS = ("condition", "done_if")
# what an analyst writes into a mechanism and a model does not (the time bound, adoption wording,
# figures copied from the notes): optional, so left out of the reply schemas (fewer tokens per request)
ANALYST_ONLY = {"MechanismLogic": ("bound", "adoption", "figures")}
_ANNOTATIONS = ("title", "default", "description", "examples", "discriminator")


@lru_cache(maxsize=1)
def _condition_defs() -> dict:
    from pydantic import TypeAdapter

    from ..places import schema as S
    schema = TypeAdapter(S.Condition).json_schema()
    defs = schema.pop("$defs")
    defs["Condition"] = schema  # the union itself: {"oneOf": [refs...]}
    return defs


def _open_object(node) -> bool:
    return isinstance(node, dict) and node.get("type") == "object" and "properties" not in node \
        and node.get("additionalProperties", True) is not False


def _is_open(node: dict) -> bool:
    return _open_object(node) or any(_open_object(x) for x in node.get("anyOf") or [])


@lru_cache(maxsize=None)
def _strict(model: type[BaseModel]) -> tuple[str, bool]:
    schema = model.model_json_schema()
    defs = schema.setdefault("$defs", {})
    for name, props in ANALYST_ONLY.items():
        for prop in props if name in defs else ():
            defs[name]["properties"].pop(prop, None)
    ok = True
    for name, d in list(defs.items()) + [("", schema)]:
        for prop, sub in (d.get("properties") or {}).items():
            if prop in CONDITION_PROPS and _is_open(sub):
                d["properties"][prop] = {"anyOf": [{"$ref": "#/$defs/Condition"}, {"type": "null"}]}
                for k, v in _condition_defs().items():
                    defs.setdefault(k, copy.deepcopy(v))

    def walk(node, in_properties=False):
        nonlocal ok
        if isinstance(node, list):
            for v in node:
                walk(v)
            return
        if not isinstance(node, dict):
            return
        if in_properties:  # keys here are property names ("title" may be one): walk the values only
            for v in node.values():
                walk(v)
            return
        for k in _ANNOTATIONS:
            node.pop(k, None)
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        if "const" in node:
            node["enum"] = [node.pop("const")]
        if node.get("type") == "object" or "properties" in node:
            if "properties" in node:
                node["required"] = list(node["properties"])
                node["additionalProperties"] = False
            elif node.get("additionalProperties", True) is not False:
                ok = False
        for k, v in node.items():
            walk(v, in_properties=k in ("properties", "$defs"))

    walk(schema)
    _prune(schema)
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":")), ok


def _prune(schema: dict) -> None:
    """Drop the $defs nothing refers to any more (those only the analyst-only fields used)."""
    defs = schema.get("$defs") or {}
    while True:
        text = json.dumps(schema)
        unused = [k for k in defs if f'"#/$defs/{k}"' not in text]
        if not unused:
            return
        for k in unused:
            del defs[k]


def strict_schema(model: type[BaseModel]) -> tuple[dict, bool]:
    """The model's schema shaped for strict mode (a fresh copy), and whether strict mode can carry it."""
    text, ok = _strict(model)
    return json.loads(text), ok


def schema_text(model: type[BaseModel]) -> str:
    """The same schema as compact JSON, for the prompt (built once per model)."""
    return _strict(model)[0]


CARRIED = "(the JSON schema is sent with this request as its response format)"


def without_schema(messages: list[dict], schema: dict) -> list[dict]:
    """The messages with the schema's text (as prompts show it, schema_text) replaced by a short line:
    for modes that send the schema as a request field."""
    text = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    return [{**m, "content": m["content"].replace(text, CARRIED)} if text in (m.get("content") or "") else m
            for m in messages]


def strict_problems(schema: dict) -> list[str]:
    """Where a schema breaks strict mode's rules (empty when it is valid): for tests and doctor."""
    out: list[str] = []

    def walk(node, path, in_properties=False):
        if isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
            return
        if not isinstance(node, dict):
            return
        if in_properties:
            for k, v in node.items():
                walk(v, f"{path}.{k}")
            return
        if node.get("type") == "object" or "properties" in node:
            if node.get("additionalProperties") is not False:
                out.append(f"{path}: object not closed")
            if set(node.get("required") or []) != set(node.get("properties") or {}):
                out.append(f"{path}: not every property is required")
        for bad in ("oneOf", "default"):
            if bad in node:
                out.append(f"{path}: has {bad}")
        for k, v in node.items():
            walk(v, f"{path}.{k}", in_properties=k in ("properties", "$defs"))

    walk(schema, "$")
    return out
