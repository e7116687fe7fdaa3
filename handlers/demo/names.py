"""Names for the demo city as a county official writes them in the ledger, and the
rectification modes that fit each outfall type.

An outfall is named after what discharges through it and where: "东阿县城区污水处理厂排污口",
"临清市恒源轴承有限公司排污口", "莘县朝城镇王庄村生活污水散排口", never after its annex sub-type
(the sub-type is its own field, the serial number is the code's job). The towns are real towns
of each county-level unit; the enterprises, farms and villages are made up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["MODES", "Named", "county_eeb_name", "name_outfall"]

# county code -> towns and streets (乡镇、街道) of that unit
TOWNS: dict[str, tuple[str, ...]] = {
    "dongchangfu": ("侯营镇", "沙镇镇", "堂邑镇", "梁水镇镇", "斗虎屯镇", "郑家镇"),
    "chiping": ("博平镇", "杜郎口镇", "韩屯镇", "乐平铺镇", "冯官屯镇"),
    "linqing": ("烟店镇", "潘庄镇", "康庄镇", "魏湾镇", "刘垓子镇"),
    "yanggu": ("阿城镇", "七级镇", "安乐镇", "定水镇", "石佛镇"),
    "shenxian": ("朝城镇", "观城镇", "古城镇", "大张家镇", "张鲁回族镇"),
    "donge": ("刘集镇", "牛角店镇", "大桥镇", "高集镇", "姜楼镇"),
    "guanxian": ("柳林镇", "清水镇", "东古城镇", "北馆陶镇", "店子镇"),
    "gaotang": ("琉璃寺镇", "姜店镇", "清平镇", "尹集镇", "固河镇"),
    "jingkai": ("蒋官屯街道", "东城街道", "北城街道", "广平镇"),
    "gaoxin": ("顾官屯镇", "许营镇", "韩集镇"),
    "jiangbei": ("朱老庄镇", "于集镇", "凤凰街道"),
}
# county code -> the industrial park (园区) whose plant the county has
PARKS: dict[str, str] = {
    "dongchangfu": "化工产业园",
    "chiping": "信源工业园区",
    "linqing": "轴承产业园区",
    "yanggu": "祥光工业园区",
    "shenxian": "食品产业园区",
    "donge": "生物医药产业园区",
    "guanxian": "纺织工业园区",
    "gaotang": "造纸产业园区",
    "jingkai": "新材料产业园区",
    "gaoxin": "装备制造产业园区",
    "jiangbei": "文旅产业园区",
}
BRANDS = ("恒源", "瑞丰", "宏达", "金诺", "华腾", "鑫盛", "永安", "裕丰", "润德", "泰和", "广通")
INDUSTRIES = ("化工", "纸业", "食品", "纺织", "热电", "建材", "轴承", "钢管", "生物科技")
FARMS = ("牧业", "生态养殖", "畜禽养殖")
SURNAMES = "王李张刘陈杨赵黄周吴孙马朱胡郭何高林"
VILLAGE_ENDS = ("庄", "楼", "集", "屯", "营", "店")
ROADS = ("建设路", "振兴路", "光明路", "新华路", "育新街", "卫育路", "湖滨路", "柳园路")
PLANTS = ("城区", "第二", "第三")  # a county's urban plants: 城区污水处理厂, 第二污水处理厂 ...
IRRIGATION = {  # the big irrigation districts (大中型灌区) along the Yellow River
    "yanggu": "陶城铺灌区",
    "shenxian": "彭楼灌区",
}

# Rectification modes that fit each type (plan 三(三): 依法取缔一批、清理合并一批、规范整治一批):
# the plants that treat a town's or a park's sewage, and rural sewage stations, are rebuilt to
# standard, never banned or merged away; illegal enterprise outfalls and scattered discharges
# are banned or merged into the sewer network; farms and irrigation outlets are regularised or
# merged. Weights for (regularise, ban, merge).
MODES: dict[str, tuple[int, int, int]] = {
    "industrial_enterprise": (6, 2, 2),
    "park_wwtp": (1, 0, 0),
    "enterprise_storm": (5, 1, 3),
    "park_wwtp_storm": (5, 1, 3),
    "urban_wwtp": (1, 0, 0),
    "livestock_large": (5, 2, 2),
    "aquaculture_large": (6, 1, 2),
    "irrigation_district": (5, 0, 2),
    "urban_scattered": (2, 4, 4),
    "rural_facility": (1, 0, 0),
    "rural_scattered": (2, 4, 4),
}


def county_eeb_name(county_name: str) -> str:
    """The county-level branch of the city bureau, as its seal reads: 聊城市生态环境局阳谷县分局."""
    return f"聊城市生态环境局{county_name.removeprefix('聊城')}分局"


@dataclass(frozen=True)
class Named:
    name: str  # the outfall's name in the ledger
    party: str  # its responsible party, when tracing finds one
    applicant: str  # who applies for its setup approval or registration


def name_outfall(rng: random.Random, county: str, county_name: str, sub: str) -> Named:
    """A name for an outfall of sub-type ``sub`` in ``county``, as the county writes it."""
    town = rng.choice(TOWNS.get(county, ("城区",)))
    village = f"{rng.choice(SURNAMES)}{rng.choice(VILLAGE_ENDS)}村"
    return _works(rng, county, county_name, sub, town) or _places(
        rng, county, county_name, sub, town, village
    )


def _works(rng: random.Random, county: str, county_name: str, sub: str, town: str) -> Named | None:
    """Enterprises and treatment plants."""
    company = f"{county_name}{rng.choice(BRANDS)}{rng.choice(INDUSTRIES)}有限公司"
    if sub == "industrial_enterprise":
        return Named(f"{company}排污口", company, company)
    if sub == "enterprise_storm":
        return Named(f"{company}雨水排口", company, company)
    if sub == "park_wwtp":
        part = rng.choice(("", "东区", "西区", "南区"))
        plant = f"{county_name}{PARKS.get(county, '工业园区')}{part}污水处理厂"
        return Named(f"{plant}排污口", plant, f"{plant}运营单位")
    if sub == "urban_wwtp":
        plant = f"{county_name}{rng.choice((*PLANTS, town))}污水处理厂"
        return Named(f"{plant}排污口", plant, f"{county_name}水务集团有限公司")
    return None


def _places(
    rng: random.Random, county: str, county_name: str, sub: str, town: str, village: str
) -> Named:
    """Farms, irrigation outlets, towns and villages."""
    if sub in ("livestock_large", "livestock_small"):
        farm = f"{county_name}{town}{rng.choice(BRANDS)}{rng.choice(FARMS)}场"
        return Named(f"{farm}养殖废水排污口", farm, farm)
    if sub in ("aquaculture_large", "aquaculture_small"):
        pond = f"{county_name}{town}{village}水产养殖场"
        return Named(f"{pond}养殖尾水排口", pond, pond)
    if sub == "irrigation_district":
        district = IRRIGATION.get(county, "位山灌区")
        return Named(
            f"{county_name}{district}{town}段退水排口",
            f"{county_name}{district}管理服务中心",
            f"{county_name}水利局",
        )
    if sub == "urban_scattered":
        bureau = f"{county_name}城市管理局"
        return Named(f"{county_name}城区{rng.choice(ROADS)}生活污水散排口", bureau, bureau)
    if sub == "rural_facility":
        station = f"{county_name}{town}{village}污水处理站"
        return Named(f"{station}排污口", f"{county_name}{town}人民政府", station)
    if sub == "rural_scattered":
        return Named(
            f"{county_name}{town}{village}生活污水散排口",
            f"{county_name}{town}{village}村民委员会",
            f"{county_name}{town}人民政府",
        )
    return Named(f"{county_name}{town}排污口", f"{county_name}{town}人民政府", county_name)
