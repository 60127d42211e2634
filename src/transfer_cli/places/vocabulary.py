"""The controlled vocabulary every place file speaks.

Conditions written against one profile must evaluate on any other, so indicator keys,
admin levels, industry tags, asset kinds, powers and note domains are closed lists.
Unknown values are rejected by `transfer validate` with the nearest known value.
docs/place-format.md documents these lists for case authors.
"""

from __future__ import annotations

import difflib

# key -> (canonical unit, {accepted unit: factor to canonical}, description)
INDICATORS: dict[str, tuple[str, dict[str, float], str]] = {
    "area": ("km²", {"km²": 1.0, "km2": 1.0}, "land area of the jurisdiction"),
    "urban_area": ("km²", {"km²": 1.0, "km2": 1.0}, "built-up / urban district area"),
    "population_resident": ("万人", {"万人": 1.0, "persons": 1e-4, "人": 1e-4}, "resident (常住) population"),
    "population_registered": ("万人", {"万人": 1.0, "persons": 1e-4, "人": 1e-4}, "registered (户籍) population"),
    "population_urban": ("万人", {"万人": 1.0, "persons": 1e-4, "人": 1e-4}, "urban resident population"),
    "population_density": ("persons/km²", {"persons/km²": 1.0, "人/km²": 1.0}, "residents per km²"),
    "urbanisation_rate": ("%", {"%": 1.0}, "urban share of residents"),
    "ageing_60plus_share": ("%", {"%": 1.0}, "residents aged 60+"),
    "ageing_65plus_share": ("%", {"%": 1.0}, "residents aged 65+"),
    "college_educated_per_100k": ("persons", {"persons": 1.0, "人": 1.0}, "residents with college education per 100,000"),
    "gdp": ("亿元", {"亿元": 1.0}, "gross domestic product"),
    "gdp_growth": ("%", {"%": 1.0}, "real GDP growth"),
    "gdp_per_capita": ("元", {"元": 1.0, "万元": 1e4}, "GDP per resident"),
    "primary_share": ("%", {"%": 1.0}, "primary sector share of GDP"),
    "secondary_share": ("%", {"%": 1.0}, "secondary sector share of GDP"),
    "tertiary_share": ("%", {"%": 1.0}, "tertiary sector share of GDP"),
    "fiscal_revenue_general_budget": ("亿元", {"亿元": 1.0}, "general public budget revenue (一般公共预算收入)"),
    "fiscal_revenue_total": ("亿元", {"亿元": 1.0}, "total fiscal revenue (财政总收入)"),
    "tax_revenue": ("亿元", {"亿元": 1.0}, "tax revenue"),
    "retail_sales": ("亿元", {"亿元": 1.0}, "retail sales of consumer goods"),
    "industrial_output": ("亿元", {"亿元": 1.0}, "gross industrial output"),
    "industrial_value_added_growth": ("%", {"%": 1.0}, "growth of above-scale industrial value added"),
    "fixed_asset_investment_growth": ("%", {"%": 1.0}, "growth of fixed-asset investment"),
    "exports": ("亿元", {"亿元": 1.0}, "exports"),
    "exports_usd": ("亿美元", {"亿美元": 1.0}, "exports in US dollars"),
    "tourism_visitors": ("万人次", {"万人次": 1.0}, "tourist visits per year"),
    "tourism_revenue": ("亿元", {"亿元": 1.0}, "tourism revenue per year"),
    "market_entities": ("户", {"户": 1.0, "万户": 1e4}, "registered market entities (市场主体)"),
    "above_scale_firms": ("家", {"家": 1.0}, "industrial firms above designated size"),
    "listed_companies": ("家", {"家": 1.0}, "listed companies"),
    "high_tech_firms": ("家", {"家": 1.0}, "national high-tech enterprises"),
    "disposable_income_urban": ("元", {"元": 1.0}, "urban per-capita disposable income"),
    "disposable_income_rural": ("元", {"元": 1.0}, "rural per-capita disposable income"),
    "disposable_income": ("元", {"元": 1.0}, "per-capita disposable income"),
    "industrial_land": ("km²", {"km²": 1.0, "km2": 1.0}, "land zoned or built for industry"),
    "development_zone_area": ("km²", {"km²": 1.0, "km2": 1.0}, "area of development zones / industrial parks"),
    "cluster_output": ("亿元", {"亿元": 1.0}, "output of the place's lead industrial cluster"),
    "cluster_firms": ("家", {"家": 1.0}, "firms in the place's lead industrial cluster"),
    "cluster_employment": ("万人", {"万人": 1.0, "persons": 1e-4, "人": 1e-4}, "jobs in the lead cluster"),
    "manufacturing_employment": ("persons", {"persons": 1.0, "人": 1.0}, "manufacturing jobs"),
    "commercial_floor_space": ("万m²", {"万m²": 1.0}, "commercial / office floor space"),
    "hsr_minutes_to_provincial_capital": ("min", {"min": 1.0}, "fastest rail time to the provincial capital"),
}

ADMIN_LEVELS: dict[str, str] = {
    "county": "县",
    "county_level_city": "县级市",
    "municipal_district": "市辖区",
    "prefecture_city": "地级市",
    "sub_provincial_city": "副省级市",
    "foreign_city": "foreign city / local authority",
}
# Levels that hold county-level budget, land supply and zone powers in China.
COUNTY_CLASS = ("county", "county_level_city")

INDUSTRY_TAGS: dict[str, str] = {
    "ceramics": "ceramics and porcelain",
    "fireworks": "fireworks and firecrackers",
    "footwear": "footwear",
    "aviation": "aviation and low-altitude economy",
    "advanced_manufacturing": "advanced / equipment manufacturing",
    "new_materials": "new and advanced materials",
    "electronics": "electronics and electrical equipment",
    "chemicals": "chemicals and pharmaceuticals",
    "biomedicine": "biomedicine and health industry",
    "food_processing": "food and agro-processing",
    "agriculture": "agriculture and forestry",
    "retail": "retail and consumer trade",
    "hospitality": "catering, hotels and night-time economy",
    "finance": "finance and financial services",
    "business_services": "business and professional services",
    "headquarters": "headquarters and office (building) economy",
    "real_estate": "real estate",
    "tourism": "tourism",
    "culture_creative": "cultural and creative industries, design",
    "digital_economy": "digital economy, software, platforms",
    "ecommerce": "e-commerce and livestreaming",
    "logistics": "logistics and trade",
    "education": "education and training",
    "healthcare": "healthcare and elderly care",
    "mining": "mining and quarrying",
}
INDUSTRY_WEIGHTS = ("pillar", "major", "emerging", "declining")

ASSET_KINDS: dict[str, str] = {
    "commercial_district": "commercial / shopping district",
    "financial_district": "financial or headquarters district",
    "development_zone": "development zone or industrial park with land",
    "creative_park": "creative, design or digital park",
    "heritage_site": "heritage site or historic quarter",
    "industrial_heritage": "industrial heritage (old factories, kilns)",
    "museum": "museum or exhibition hall",
    "exhibition_center": "expo / exhibition venue",
    "university": "university or college",
    "vocational_school": "vocational / technical school",
    "research_institute": "research institute or testing centre",
    "hsr_station": "high-speed rail station",
    "airport": "airport",
    "metro": "metro / urban rail",
    "expressway": "expressway access",
    "pipeline": "gas or energy pipeline",
    "natural_resource": "raw-material deposit or natural resource",
    "tourism_site": "tourist attraction or scenic area",
    "wholesale_market": "specialised wholesale / trading market",
    "livestream_base": "livestream / e-commerce base",
    "river_waterfront": "river or waterfront",
    "urban_renewal_site": "urban-renewal project or site",
    "logistics_hub": "logistics hub or port",
    "hospital": "major hospital or medical centre",
}

POWERS: dict[str, str] = {
    "land_supply": "supplies and zones land, including industrial land",
    "development_zone": "runs or may set up a development zone",
    "fiscal_budget": "has its own budget at this level",
    "investment_approval": "approves major investment projects",
    "urban_planning": "sets the statutory plan",
    "industrial_policy": "sets and funds industry-support policy",
    "business_registration": "registers businesses, issues licences",
    "safety_regulation": "licenses and inspects hazardous production",
    "urban_renewal": "initiates urban-renewal projects",
    "education": "runs schools, incl. vocational schools",
    "tourism_promotion": "markets the place, runs events",
}
POWER_HOLDS = ("full", "partial", "none")

NOTE_DOMAINS: dict[str, str] = {
    "basics": "geography, status, population",
    "timeline": "milestones",
    "economy": "headline figures and rankings",
    "industry": "industries and clusters",
    "enterprise": "firms, ownership, private economy",
    "policy": "policies, incentives, business environment",
    "governance": "administration, powers, institutions",
    "infrastructure": "transport, energy, utilities",
    "urban": "urban development and renewal",
    "livelihood": "incomes, services, social",
    "culture": "culture, heritage, identity",
    "tourism": "tourism",
    "skills": "education, skills, know-how",
    "environment": "environment and pollution",
    "safety": "safety and accidents",
    "risk": "problems, risks, decline",
    "comparison": "comparison with peers",
}

FACTOR_KINDS = ("land", "powers", "industrial_base", "know_how", "transport", "fiscal",
                "culture", "market", "human_capital", "resources", "institutions", "scale")

TRANSFER_OBJECTS = ("institution", "instrument", "programme", "idea", "resource")


def nearest(value: str, known) -> str | None:
    """The closest known value, for 'did you mean' messages."""
    hits = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return hits[0] if hits else None


def canonical(key: str, value: float, unit: str) -> float:
    """Value converted to the key's canonical unit (caller has validated the unit)."""
    return value * INDICATORS[key][1][unit]
