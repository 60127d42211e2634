"""The controlled vocabulary's terms (admin levels, indicators, industries, families, powers,
problem types) in zh and en."""

from __future__ import annotations

ADMIN_LEVEL_NAMES = {
    "zh": {"county": "县", "county_level_city": "县级市", "municipal_district": "市辖区",
           "prefecture_city": "地级市", "sub_provincial_city": "副省级市", "foreign_city": "境外地方政府（城市）"},
    "en": {"county": "county", "county_level_city": "county-level city", "municipal_district": "municipal district",
           "prefecture_city": "prefecture-level city", "sub_provincial_city": "sub-provincial city",
           "foreign_city": "local authority abroad"},
}

INDICATOR_NAMES = {
    "zh": {"area": "面积", "population_resident": "常住人口", "population_registered": "户籍人口",
           "population_density": "人口密度", "gdp": "地区生产总值", "gdp_per_capita": "人均GDP",
           "gdp_growth": "GDP增速", "primary_share": "第一产业占比", "secondary_share": "第二产业占比",
           "tertiary_share": "第三产业占比", "fiscal_revenue_general_budget": "一般公共预算收入",
           "fiscal_revenue_total": "财政总收入", "tax_revenue": "税收收入", "retail_sales": "社会消费品零售总额",
           "urbanisation_rate": "城镇化率", "ageing_60plus_share": "60岁以上人口占比",
           "ageing_65plus_share": "65岁以上人口占比", "tourism_visitors": "游客人次", "tourism_revenue": "旅游收入",
           "cluster_output": "主导集群产值", "cluster_firms": "主导集群企业数", "market_entities": "市场主体",
           "development_zone_area": "开发区面积", "industrial_output": "工业总产值",
           "above_scale_firms": "规上工业企业", "listed_companies": "上市公司",
           "manufacturing_employment": "制造业就业", "urban_area": "城区面积", "population_urban": "城镇人口",
           "college_educated_per_100k": "每十万人大学文化人数", "industrial_value_added_growth": "规上工业增加值增速",
           "fixed_asset_investment_growth": "固定资产投资增速", "exports": "出口额", "exports_usd": "出口额（美元）",
           "high_tech_firms": "高新技术企业", "disposable_income_urban": "城镇居民人均可支配收入",
           "disposable_income_rural": "农村居民人均可支配收入", "disposable_income": "居民人均可支配收入",
           "industrial_land": "工业用地", "cluster_employment": "主导集群就业", "commercial_floor_space": "商业/办公建筑面积",
           "hsr_minutes_to_provincial_capital": "至省会最快铁路用时"},
}


def admin_level(lang: str, level: str) -> str:
    return ADMIN_LEVEL_NAMES[lang].get(level, level)


INDUSTRY_NAMES_ZH = {
    "ceramics": "陶瓷", "fireworks": "花炮", "footwear": "制鞋", "aviation": "航空", "advanced_manufacturing": "装备制造",
    "new_materials": "新材料", "electronics": "电子信息", "chemicals": "化工医药", "biomedicine": "生物医药",
    "food_processing": "食品加工", "agriculture": "农林业", "retail": "商贸零售", "hospitality": "餐饮住宿",
    "finance": "金融", "business_services": "商务服务", "headquarters": "总部经济", "real_estate": "房地产",
    "tourism": "旅游", "culture_creative": "文化创意", "digital_economy": "数字经济", "ecommerce": "电子商务",
    "logistics": "物流商贸", "education": "教育", "healthcare": "医疗康养", "mining": "采矿"}


def industry_name(lang: str, tag: str | None) -> str:
    from ...places.vocabulary import INDUSTRY_TAGS
    if tag is None:
        return ""
    return INDUSTRY_NAMES_ZH.get(tag, tag) if lang == "zh" else INDUSTRY_TAGS.get(tag, tag)


PROBLEM_LABELS_ZH = {
    "urban_hollowing": "老城区空心化", "industrial_decline": "支柱产业衰退", "regional_competition": "周边区域竞争",
    "narrow_industrial_base": "产业基础单薄", "slow_growth": "增长放缓", "mono_industry": "产业单一",
    "low_value_added": "附加值偏低", "export_dependence": "依赖出口", "production_safety": "生产安全",
    "shrinking_demand": "市场需求萎缩", "ageing": "人口老龄化", "old_housing": "老旧住房", "deprivation": "相对贫困",
    "stagnant_incomes": "收入停滞", "economic_shocks": "易受外部冲击", "health_gap": "健康差距",
    "population_decline": "人口减少", "connectivity": "交通联系不足", "skills_shortage": "技能短缺",
    "fiscal_pressure": "财政压力", "pollution": "环境污染", "fragmented_administration": "管理边界复杂",
    "data_gaps": "数据缺口", "consumption_upgrade": "消费升级", "investment_attraction": "招商引资",
    "tourism_growth": "旅游发展", "innovation": "创新与新兴产业", "cluster_upgrading": "集群升级",
    "brand_building": "城市品牌", "rural_income": "农村收入", "public_services": "公共服务能力"}


FAMILY_LABELS_ZH = {
    "manufacturing": "规模化制造业集群", "consumer_goods_manufacturing": "可供游客购买的消费品生产",
    "craft_manufacturing": "传统工艺制造", "labour_intensive_manufacturing": "劳动密集型制造业",
    "hazardous_production": "危险品生产", "consumer_services": "消费服务业", "visitor_economy": "旅游服务业",
    "finance_business": "金融商务", "knowledge_economy": "知识型产业", "logistics_trade": "物流商贸",
    "social_services": "社会服务", "primary": "农业和采掘", "national_corridor": "国家交通通道节点",
    "urban_transit": "城市轨道交通", "production_land": "可供生产的园区用地", "innovation_space": "创意和数字园区",
    "consumer_destination": "消费目的地", "heritage": "历史和工业遗产", "event_venue": "展会场馆",
    "knowledge_institution": "院校和研究机构", "energy_supply": "能源管道", "raw_materials": "本地原料",
    "waterfront": "滨水空间", "renewal_site": "城市更新片区", "finance_district": "金融商务区",
    "health_facility": "大型医院"}
POWER_LABELS_ZH = {
    "land_supply": "本级供地权", "development_zone": "设立和管理开发区的权限", "fiscal_budget": "本级预算",
    "investment_approval": "重大项目审批权", "urban_planning": "规划权", "industrial_policy": "产业政策权",
    "business_registration": "登记许可权", "safety_regulation": "危险品安全监管权", "urban_renewal": "发起城市更新的权限",
    "education": "办学权", "tourism_promotion": "办节办会和旅游推广权限", "admin_level": "县级行政身份"}


def family_label(lang: str, family: str) -> str:
    from ...places.vocabulary import FAMILIES
    return FAMILY_LABELS_ZH.get(family, family) if lang == "zh" else FAMILIES.get(family, (family,))[0]


def power_label(lang: str, power: str) -> str:
    from ...places.vocabulary import POWERS
    if lang == "zh":
        return POWER_LABELS_ZH.get(power, power)
    return "county-level status" if power == "admin_level" else f"the power that {POWERS.get(power, power)}"


def problem_label(lang: str, ptype: str | None) -> str:
    from ...places.vocabulary import PROBLEM_TYPES
    if ptype is None:
        return ""
    return PROBLEM_LABELS_ZH.get(ptype, ptype) if lang == "zh" else PROBLEM_TYPES.get(ptype, ptype)


def indicator_name(lang: str, key: str) -> str:
    from ...places.vocabulary import INDICATORS
    if lang == "zh" and key in INDICATOR_NAMES["zh"]:
        return INDICATOR_NAMES["zh"][key]
    desc = INDICATORS[key][2] if key in INDICATORS else key
    return desc[:1].upper() + desc[1:]
