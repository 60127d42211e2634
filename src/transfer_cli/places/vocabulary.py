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

# Functional families: what a thing does in an economy, over the tags and kinds above. A support
# factor states a function ("a specialised manufacturing cluster at scale"), so that a fireworks
# city has one as much as a ceramics city, and a shopping district does not. A tag can be in
# several families; family names are unique across industries and assets.
INDUSTRY_FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "manufacturing": ("manufacturing of tradeable goods", (
        "ceramics", "fireworks", "footwear", "aviation", "advanced_manufacturing", "new_materials",
        "electronics", "chemicals", "biomedicine", "food_processing")),
    "consumer_goods_manufacturing": ("making goods a visitor can buy and carry home",
                                     ("ceramics", "footwear", "food_processing")),
    "craft_manufacturing": ("production built on a heritage craft", ("ceramics", "fireworks")),
    "labour_intensive_manufacturing": ("manufacturing that employs many hands per unit of output",
                                       ("ceramics", "fireworks", "footwear", "food_processing")),
    "hazardous_production": ("production with explosion, toxic or accident hazards",
                             ("fireworks", "chemicals", "mining")),
    "consumer_services": ("selling goods and services to consumers",
                          ("retail", "hospitality", "tourism", "ecommerce")),
    "visitor_economy": ("serving visitors", ("tourism", "hospitality", "culture_creative")),
    "finance_business": ("finance, business services and offices",
                         ("finance", "business_services", "headquarters", "real_estate")),
    "knowledge_economy": ("knowledge-intensive work",
                          ("digital_economy", "culture_creative", "education", "biomedicine")),
    "logistics_trade": ("moving and trading goods", ("logistics", "ecommerce")),
    "social_services": ("health, care and education services", ("healthcare", "education")),
    "primary": ("farming, forestry and extraction", ("agriculture", "mining")),
}

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

ASSET_FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "national_corridor": ("a node on a national transport corridor",
                          ("hsr_station", "airport", "expressway", "logistics_hub")),
    "urban_transit": ("transport inside the city", ("metro",)),
    "production_land": ("land zoned and serviced for production", ("development_zone",)),
    "innovation_space": ("space for creative and digital firms", ("creative_park",)),
    "consumer_destination": ("a place people come to buy or visit",
                             ("commercial_district", "tourism_site", "wholesale_market", "livestream_base")),
    "heritage": ("historic and industrial heritage", ("heritage_site", "industrial_heritage", "museum")),
    "event_venue": ("a venue for fairs and exhibitions", ("exhibition_center",)),
    "knowledge_institution": ("teaching, research and testing",
                              ("university", "vocational_school", "research_institute")),
    "energy_supply": ("gas and energy supply", ("pipeline",)),
    "raw_materials": ("raw-material deposits", ("natural_resource",)),
    "waterfront": ("a river or waterfront", ("river_waterfront",)),
    "renewal_site": ("an urban-renewal project or site", ("urban_renewal_site",)),
    "finance_district": ("a financial or headquarters district", ("financial_district",)),
    "health_facility": ("a major hospital", ("hospital",)),
}
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {**INDUSTRY_FAMILIES, **ASSET_FAMILIES}


def families_of(tag_or_kind: str) -> set[str]:
    """The functional families an industry tag or asset kind belongs to."""
    return {f for f, (_, members) in FAMILIES.items() if tag_or_kind in members}


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

# What each admin level usually holds, for powers a profile does not record itself. A county and a
# county-level city hold the same county powers; a municipal district's land, plan and zones sit
# with the city; a foreign city has its own system (no entry: unknown). Typical, not certain:
# a reading from this table says so and asks for local verification.
_COUNTY = {p: "full" for p in POWERS}
LEVEL_POWERS: dict[str, dict[str, str]] = {
    "county": _COUNTY,
    "county_level_city": _COUNTY,
    "prefecture_city": {p: "full" for p in POWERS},
    "sub_provincial_city": {p: "full" for p in POWERS},
    "municipal_district": {
        "fiscal_budget": "full", "business_registration": "full", "education": "full",
        "tourism_promotion": "full", "industrial_policy": "partial", "investment_approval": "partial",
        "urban_renewal": "partial", "safety_regulation": "partial", "land_supply": "none",
        "urban_planning": "none", "development_zone": "none"},
    "foreign_city": {},
}

# The kinds of problem a target names and a mechanism can address (PDIA: a lesson answers the
# target's own problem). data_gaps is never addressed by a mechanism: it becomes a verification step.
PROBLEM_TYPES: dict[str, str] = {
    "urban_hollowing": "the old core losing investment, firms or residents",
    "industrial_decline": "the decline or loss of a core industry",
    "regional_competition": "functions moving to competing districts or places",
    "narrow_industrial_base": "a thin or narrow productive base",
    "slow_growth": "slow or falling growth",
    "mono_industry": "dependence on one industry",
    "low_value_added": "low value added, low prices",
    "export_dependence": "dependence on exports and outside demand",
    "production_safety": "accidents and hazardous production",
    "shrinking_demand": "a shrinking market for the main products",
    "ageing": "an ageing population",
    "old_housing": "old housing and neighbourhoods",
    "deprivation": "deprivation and low incomes",
    "stagnant_incomes": "incomes that do not keep up",
    "economic_shocks": "exposure to shocks (demand, pandemic, a firm's failure)",
    "health_gap": "poor health outcomes or access",
    "population_decline": "a shrinking population",
    "connectivity": "poor transport links",
    "skills_shortage": "hiring difficulty, missing skills",
    "fiscal_pressure": "weak or strained public finances",
    "pollution": "pollution and environmental damage",
    "fragmented_administration": "split or unclear administration",
    "data_gaps": "missing or unreliable statistics",
    "consumption_upgrade": "upgrading consumption and commercial districts",
    "investment_attraction": "attracting investment and firms",
    "tourism_growth": "growing tourism",
    "innovation": "innovation and new industries",
    "cluster_upgrading": "growing and upgrading an existing cluster",
    "brand_building": "building the place's brand",
    "rural_income": "rural incomes and poverty",
    "public_services": "public-service capacity",
}
PROBLEM_WEIGHTS = ("high", "medium", "low")

# What an institution handles, and what a mechanism's lead body must handle.
PORTFOLIOS: dict[str, str] = {
    "development_reform": "development and reform (plans, major projects)",
    "industry": "economy and information technology (industry)",
    "commerce": "commerce and consumption",
    "investment_promotion": "investment promotion",
    "culture_tourism": "culture, radio, television and tourism",
    "urban_renewal": "housing, urban construction and renewal",
    "planning_land": "planning and natural resources (land)",
    "finance_fiscal": "public finance",
    "education": "education",
    "health": "health",
    "emergency_safety": "emergency management and production safety",
    "market_regulation": "market regulation",
    "agriculture_rural": "agriculture and rural affairs",
    "civil_affairs": "civil affairs and elderly care",
    "statistics": "statistics",
    "sci_tech": "science and technology",
}

# Instrument types: what a mechanism's lever is, and what a target already runs.
INSTRUMENTS: dict[str, str] = {
    "status_upgrade": "an administrative status upgrade (county to city)",
    "ownership_reform": "ownership reform of state or collective firms",
    "cluster_policy": "a cluster or specialised-industry policy",
    "automation_subsidy": "subsidies for automation and process upgrading",
    "safety_consolidation": "safety-led consolidation of a hazardous industry",
    "development_zone": "a development zone or industrial park",
    "anchor_investment": "investment promotion through an anchor firm",
    "production_tourism": "turning production into a visitor experience",
    "corridor_infrastructure": "securing national corridor infrastructure",
    "skills_college": "a training chain co-located with employers",
    "trade_fair": "recurring fairs and forums",
    "incentive_package": "a numbered package of cash incentives",
    "heritage_renewal": "culture-led urban renewal",
    "service_integration": "integration of public-service tiers",
    "consumption_district": "a plan for a commercial district",
    "place_brand": "a place brand, title or geographical indication",
    "urban_regeneration": "regeneration and renovation of old neighbourhoods",
}
POLICY_STATUS = ("in_place", "pilot", "planned", "mandate", "ended")

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


# Money: a unit carries a currency and a factor to one unit of it. Quantities in different
# currencies are not compared unless a profile gives a cited exchange rate.
MONEY_UNITS: dict[str, tuple[str, float]] = {
    "元": ("CNY", 1.0), "万元": ("CNY", 1e4), "亿元": ("CNY", 1e8),
    "£": ("GBP", 1.0), "£k": ("GBP", 1e3), "£m": ("GBP", 1e6), "£bn": ("GBP", 1e9),
    "美元": ("USD", 1.0), "亿美元": ("USD", 1e8), "$m": ("USD", 1e6), "$bn": ("USD", 1e9),
    "€": ("EUR", 1.0), "€k": ("EUR", 1e3), "€m": ("EUR", 1e6), "€bn": ("EUR", 1e9),
}
# Indicators that are Chinese statistical categories: never proposed as a KPI for a foreign place.
CN_ONLY_INDICATORS = {"fiscal_revenue_general_budget", "fiscal_revenue_total", "market_entities",
                      "above_scale_firms", "industrial_value_added_growth", "high_tech_firms"}
# Indicators that describe one cluster: they say which industry (`of`), and two of them compare
# only when they are the same industry.
CLUSTER_INDICATORS = ("cluster_output", "cluster_firms", "cluster_employment")


def nearest(value: str, known) -> str | None:
    """The closest known value, for 'did you mean' messages."""
    hits = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return hits[0] if hits else None


def currency(unit: str) -> str | None:
    return MONEY_UNITS[unit][0] if unit in MONEY_UNITS else None


def accepted_units(key: str) -> dict[str, float]:
    """Units a profile may write for an indicator: a money indicator takes any currency's units."""
    unit, units, _ = INDICATORS[key]
    if unit in MONEY_UNITS:
        return {u: 1.0 for u in MONEY_UNITS} | units
    return units


def canonical(key: str, value: float, unit: str, rates: dict[str, float] | None = None) -> float | None:
    """Value in the key's canonical unit (caller has validated the unit), or None when it is money
    in another currency and no exchange rate (canonical currency per unit) is given."""
    target = INDICATORS[key][0]
    if target in MONEY_UNITS and unit in MONEY_UNITS:
        (cur, f), (tcur, tf) = MONEY_UNITS[unit], MONEY_UNITS[target]
        if cur != tcur:
            rate = (rates or {}).get(cur)
            if rate is None:
                return None
            return value * f * rate / tf
        return value * f / tf
    return value * INDICATORS[key][1][unit]
