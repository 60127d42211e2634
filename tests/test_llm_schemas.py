"""The reply schemas are complete and strict-mode valid, and what they cannot say is re-asked."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from transfer_cli.llm import replies as R
from transfer_cli.llm.schemas import strict_problems, strict_schema

REPLY_MODELS = [R.LogicReply, R.FitReply, R.PlanReply]


@pytest.mark.parametrize("model", REPLY_MODELS, ids=lambda m: m.__name__)
def test_every_reply_model_is_strict_mode_valid(model):
    schema, strict = strict_schema(model)
    assert strict
    assert strict_problems(schema) == []
    text = json.dumps(schema)
    assert '"oneOf"' not in text and '"default"' not in text


def test_strict_problems_sees_an_open_object():
    assert strict_problems({"type": "object", "properties": {"a": {"type": "object"}}, "required": ["a"],
                            "additionalProperties": False}) == ["$.properties.a: object not closed"]


def test_a_property_named_title_survives_while_schema_titles_go():
    action = strict_schema(R.PlanReply)[0]["$defs"]["Action"]
    assert "title" in action["properties"] and "title" in action["required"]
    assert action["properties"]["title"] == {"type": "string"}  # its own "title" annotation is gone


def test_condition_and_done_if_are_the_condition_language():
    schema = strict_schema(R.LogicReply)[0]
    defs = schema["$defs"]
    assert defs["FactorSpec"]["properties"]["condition"] == {"anyOf": [{"$ref": "#/$defs/Condition"}, {"type": "null"}]}
    # what only an analyst writes (the time bound with its done_if condition, adoption wording, figures)
    # is not asked of a model: not in the reply schema at all
    assert not {"bound", "adoption", "figures"} & set(defs["MechanismLogic"]["properties"])
    assert "BoundSpec" not in defs and "AdoptionSpec" not in defs
    tags = {r["$ref"].rsplit("/", 1)[1] for r in defs["Condition"]["anyOf"]}
    assert tags == {"IndicatorCond", "IndustryCond", "FamilyCond", "AssetCond", "AdminCond", "PowerCond",
                    "AllCond", "AnyCond", "NotCond"}
    assert defs["NotCond"]["required"] == ["not"]


def test_a_condition_that_does_not_parse_is_a_validation_error():
    from llm_helpers import draft_of
    from transfer_cli.llm.replies import to_reply
    data = to_reply(draft_of("alpha", cases=str(__import__("conftest").SYNTHETIC)))
    R.LogicReply.model_validate(data)
    data["mechanisms"][0]["support_factors"][0]["condition"] = {}
    with pytest.raises(ValidationError) as e:
        R.LogicReply.model_validate(data)
    assert "a condition needs one of" in str(e.value)
    data["mechanisms"][0]["support_factors"][0]["condition"] = {"industry": "nonsense"}
    with pytest.raises(ValidationError) as e:
        R.LogicReply.model_validate(data)
    assert "nonsense" in str(e.value)


def test_a_review_applies_edits_and_names_what_is_wrong():
    from llm_helpers import draft_of
    draft = draft_of("alpha", cases=str(__import__("conftest").SYNTHETIC)).mechanisms
    m0, f0 = draft[0], draft[0].support_factors[0]
    out = R.apply_review(draft, [R.MechanismReview(id=m0.id, edits=[
        R.Edit(path=f"support_factors.{f0.id}.necessity", value='"helpful"'),
        R.Edit(path="principle", value='"a new principle"')])])
    assert out[0].support_factors[0].necessity == "helpful" and out[0].principle == "a new principle"
    assert out[1:] == draft[1:]
    for edit, said in ((R.Edit(path="support_factors.0.condition", value="{}"), "a condition needs one of"),
                       (R.Edit(path="nope.x", value="1"), "no field 'nope'"),
                       (R.Edit(path="principle", value="not json"), "not JSON text")):
        with pytest.raises(ValueError, match=said):
            R.apply_review(draft, [R.MechanismReview(id=m0.id, edits=[edit])])
    with pytest.raises(ValueError, match="not a draft mechanism"):
        R.apply_review(draft, [R.MechanismReview(id="M99", edits=[])])
