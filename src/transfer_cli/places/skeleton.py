"""The commented profile skeleton `transfer new` writes.

It does not validate as written: its TODO values are placeholders the loader refuses, so an
unfilled skeleton can never become a memo titled "TODO 中文名". Each commented example becomes
valid YAML when uncommented where it stands.
"""

from __future__ import annotations

TEMPLATE = """\
# Place profile for `transfer`. Reference: docs/place-format.md; vocabulary: `transfer vocabulary`.
# Replace every TODO value (the file does not validate until you do), then `transfer validate`.
# Every figure needs a unit, a year and a source id from `sources:` below. Record disagreements
# between sources in `conflict:` instead of picking one silently. From documents instead:
# `transfer ingest {id} bulletin.pdf report.docx --cases DIR` drafts this file with citations.
id: {id}
names: {{zh: "TODO 中文名", en: "TODO English name"}}
aliases: []                       # other names accepted on the command line
admin_level: "TODO municipal_district"   # county | county_level_city | municipal_district | prefecture_city | ...
parent: {{zh: "TODO 上级", en: "TODO parent"}}
country: CN
language: zh                      # memo language when this place is a source

indicators:                       # key: {{value, unit, year, source}}; keys from `transfer vocabulary`
  # area: {{value: 62.12, unit: km², year: 2023, source: s-example}}
  # population_resident: {{value: 90.0, unit: 万人, year: 2023, source: s-example}}
  # gdp: {{value: 1000.0, unit: 亿元, year: 2023, source: s-example}}
  # tertiary_share: {{value: 90.0, unit: "%", year: 2023, source: s-example}}

industries:
  # - {{tag: retail, name: 商贸, weight: pillar, sources: [s-example]}}
assets:
  # - {{id: cbd, kind: commercial_district, name: 某商圈, sources: [s-example]}}
challenges:
  # - {{type: regional_competition, text: "...", sources: [s-example]}}
powers:
  # - {{power: land_supply, holds: partial, holder: 某市, sources: [s-example]}}

notes:
  # - {{id: X-01, period: "2023", domain: economy, text: "...", sources: [s-example]}}

sources:
  s-example: {{title: "TODO: the document your figures come from", publisher: "TODO", date: "TODO", url: "https://example.org"}}
"""


def skeleton(place_id: str) -> str:
    return TEMPLATE.format(id=place_id)
