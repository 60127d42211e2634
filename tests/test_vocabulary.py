"""`transfer vocabulary` lists every closed list a place file is written in, and the author's guide
documents the fields that use them."""

from __future__ import annotations


from conftest import ROOT, run_cli
from transfer_cli.places import vocabulary as V


def test_vocabulary_lists_families_problems_portfolios_instruments_and_level_powers(tmp_path):
    r = run_cli("vocabulary", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    for name, (_, members) in {**V.INDUSTRY_FAMILIES, **V.ASSET_FAMILIES}.items():
        assert any(line.startswith(f"{name} — ") and line.endswith(", ".join(members)) for line in lines), name
    for table in (V.PROBLEM_TYPES, V.PORTFOLIOS, V.INSTRUMENTS, V.POWERS, V.INDUSTRY_TAGS, V.ASSET_KINDS):
        for key in table:
            assert any(line.startswith(f"{key} — ") for line in lines), key
    district = next(line for line in lines if line.startswith("municipal_district: "))
    assert "land_supply none" in district and "fiscal_budget full" in district
    assert "foreign_city: no entry" in r.stdout
    assert "€m: EUR × 1,000,000" in lines
    assert any(line.startswith("market_entities:") and "never a KPI abroad" in line for line in lines)


def test_place_format_documents_the_judgment_fields():
    doc = (ROOT / "docs" / "place-format.md").read_text(encoding="utf-8")
    for field in ("checked:", "absences:", "challenges:", "goals:", "institutions:", "policies:",
                  "exchange_rates:", "of: ceramics", "instrument:", "addresses:", "bound:", "done_if:",
                  "adoption:", "mitigation:", "role:", "{family: ", "LEVEL_POWERS", "not comparable"):
        assert field in doc, field
    for name in (*V.INDUSTRY_FAMILIES, *V.ASSET_FAMILIES):
        assert f"`{name}`" in doc, name
