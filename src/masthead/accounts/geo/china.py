"""Short names of mainland China's provincial divisions, as IP属地 shows them ("广东", not "广东省").

Keyed by ISO 3166-2:CN code (the letter codes in use since 2017, which MaxMind databases carry).
"""

PROVINCES: dict[str, str] = {
    "BJ": "北京", "TJ": "天津", "HE": "河北", "SX": "山西", "NM": "内蒙古", "LN": "辽宁", "JL": "吉林",
    "HL": "黑龙江", "SH": "上海", "JS": "江苏", "ZJ": "浙江", "AH": "安徽", "FJ": "福建", "JX": "江西",
    "SD": "山东", "HA": "河南", "HB": "湖北", "HN": "湖南", "GD": "广东", "GX": "广西", "HI": "海南",
    "CQ": "重庆", "SC": "四川", "GZ": "贵州", "YN": "云南", "XZ": "西藏", "SN": "陕西", "GS": "甘肃",
    "QH": "青海", "NX": "宁夏", "XJ": "新疆",
}  # fmt: skip
# Shown as regions of their own (中国香港, 中国澳门, 中国台湾), whether a database files them as
# countries (MaxMind does) or as subdivisions of CN.
SEPARATE = {"HK": "中国香港", "MO": "中国澳门", "TW": "中国台湾"}


def province(code: str = "", chinese_name: str = "") -> str:
    """The short name from a subdivision's ISO code or, failing that, its Chinese name ("内蒙古自治区"
    → "内蒙古"); "" when neither names a mainland province."""
    code = code.upper().removeprefix("CN-")
    if code in PROVINCES:
        return PROVINCES[code]
    return next((name for name in PROVINCES.values() if chinese_name.startswith(name)), "")
