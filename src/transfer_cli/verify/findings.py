"""What the verifier reports: findings, each of a kind, and the report a memo carries."""

from __future__ import annotations

from pydantic import BaseModel

KINDS = ("citation", "number_unsupported", "number_unit", "number_miscited", "coverage", "computed",
         "contradiction", "analog", "verdict", "agenda", "entity")


class Finding(BaseModel):
    kind: str
    where: str     # a path in the memo, e.g. fit.mechanisms[2].rationale
    message: str


class Report(BaseModel):
    clean: bool
    claims: int            # Claim objects and actions
    claims_cited: int      # ... with at least one citation, every one resolving
    numbers: int           # figures stated in text, and structured figures
    numbers_supported: int  # ... found in what their text cites
    groundedness: dict[str, float]  # {"claims": share cited, "numbers": share supported}
    findings: list[Finding]
    summary: str

    def as_record(self) -> dict:
        """The dict stored in memo.run.verification and rendered as the memo's verification section."""
        return self.model_dump()
