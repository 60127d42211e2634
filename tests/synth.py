"""Generated synthetic target places (for batch tests and bench/bench_batch.py).

Varied on purpose: admin level, density, GDP, industries and powers change from one place to
the next, so the offline engine takes different verdict paths rather than one cached one.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

LEVELS = ["county", "county_level_city", "municipal_district", "prefecture_city"]
INDUSTRIES = ["ceramics", "retail", "tourism", "electronics", "food_processing", "logistics",
              "culture_creative", "digital_economy", "footwear", "agriculture"]
WEIGHTS = ["pillar", "major", "emerging"]
ASSETS = ["development_zone", "commercial_district", "heritage_site", "university", "hsr_station"]
POWERS = ["land_supply", "industrial_policy", "development_zone"]
# one problem each, of a type the synthetic source's mechanisms address, so stage 3 has work
PROBLEMS = [("cluster_upgrading", "产业附加值有待提升"), ("slow_growth", "经济增长放缓"),
            ("urban_hollowing", "老城区企业外迁")]
HOLDS = ["full", "partial", "none"]

TEMPLATE = """\
# Generated synthetic target {i}; not a real place.
id: {pid}
names: {{zh: 合成地{code}, en: Synthetic {code}}}
admin_level: {level}
country: CN
indicators:
  area: {{value: {area}, unit: km², year: 2022, source: s1}}
  population_density: {{value: {density}, unit: persons/km², year: 2022, source: s1}}
  gdp: {{value: {gdp}, unit: 亿元, year: 2023, source: s1}}
industries:
{industries}
assets:
{assets}
{powers}
challenges:
  - {{id: C1, type: {problem}, weight: high, text: "{problem_text}", notes: [N-01]}}
institutions:
  - {{id: industry, name: {{zh: 合成地{code}工业和信息化局, en: Synthetic {code} Industry Bureau}}, handles: [industry], basis: general}}
  - {{id: investment, name: {{zh: 合成地{code}投资促进局, en: Synthetic {code} Investment Bureau}}, handles: [investment_promotion], basis: general}}
notes:
  - {{id: N-01, period: "2023", domain: economy, text: "GDP {gdp}亿元。", sources: [s1]}}
sources:
  s1: {{title: Synthetic profile {i}, publisher: tests}}
"""


def name_code(i: int) -> str:
    """A, B, ..., Z, AA, ...: names carry no digits, which a memo would show as unsupported figures
    (the verifier reads "合成地0人民政府" as the quantity 0人)."""
    code = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        code = chr(65 + r) + code
    return code


def place_yaml(i: int, rng: random.Random, prefix: str = "t") -> str:
    inds = rng.sample(INDUSTRIES, rng.randint(1, 3))
    assets = rng.sample(ASSETS, rng.randint(1, 2))
    powers = rng.sample(POWERS, rng.randint(0, 3))
    return TEMPLATE.format(
        i=i, code=name_code(i), pid=f"{prefix}{i:04d}", level=rng.choice(LEVELS),
        problem=PROBLEMS[i % len(PROBLEMS)][0], problem_text=PROBLEMS[i % len(PROBLEMS)][1], area=rng.randint(20, 3000),
        density=rng.randint(100, 20000), gdp=round(rng.uniform(50, 3000), 1),
        industries="\n".join(f"  - {{tag: {t}, name: {t}, weight: {rng.choice(WEIGHTS)}, sources: [s1]}}" for t in inds),
        assets="\n".join(f"  - {{id: a{k}, kind: {kind}, name: asset {k}, sources: [s1]}}"
                         for k, kind in enumerate(assets)),
        powers="powers:\n" + "\n".join(f"  - {{power: {p}, holds: {rng.choice(HOLDS)}, sources: [s1]}}"
                                        for p in powers) if powers else "powers: []",
    )


def write_targets(directory: Path, n: int, seed: int = 7, prefix: str = "t") -> list[str]:
    """Write n target places into `directory`; returns their ids."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    ids = []
    for i in range(n):
        text = place_yaml(i, rng, prefix)
        (directory / f"{prefix}{i:04d}.yaml").write_text(text, encoding="utf-8")
        ids.append(f"{prefix}{i:04d}")
    return ids


def source_dir(directory: Path, synthetic: Path) -> Path:
    """A cases dir holding only the synthetic source `alpha` (targets are added next to it)."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(synthetic / "alpha.yaml", directory / "alpha.yaml")
    return directory
