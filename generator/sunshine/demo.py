"""The deterministic fictional jurisdiction 示例市 (``sunshine demo-data``).

Everything here is invented and marked as sample data (``sample: true``): the city 示例市 with the
fictional division code 379900 and its districts 379902…379921, twelve joint-meeting departments like
those of the seed documents' member lists, an item list with two versions (42 items, 重点 and 一般 with
ratio caps), a target directory of *scale* rows (valid GB 32100 check characters, a few legacy 15-digit
numbers, two deliberately wrong check characters), an inspector directory, and the annual plans 2025
(with an adjusted second version) and 2026.

Same options → byte-identical files: all randomness comes from :class:`random.Random` seeded with the
``seed`` option and a purpose label, never from the clock or the OS. Targets are generated and written
as a stream, so a million rows need little memory.

:func:`make_results` turns drawn selections into inspection results with a realistic distribution
(late publications, corrections, non-substantive codes); the draw itself is not done here.
"""

from __future__ import annotations

import bisect
import math
import os
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from . import model, uscc, writing
from .vocabulary import (
    ApproverRole,
    CreditClass,
    InspectorStatus,
    ItemClass,
    Method,
    NoticeMode,
    PendingSubCode,
    PersonType,
    RegistrationStatus,
    ResultCode,
    TargetFlag,
    TargetKind,
)

DEFAULT_SCALE = 3000
DEFAULT_SEED = 2025
MIN_SCALE = 100

E, I, C, P = TargetKind.ENTERPRISE, TargetKind.INDIVIDUAL, TargetKind.COOPERATIVE, TargetKind.PROJECT
ON_SITE, DOCS, ONLINE, SAMPLING = Method.ON_SITE, Method.DOCUMENTS, Method.ONLINE, Method.SAMPLING

# --------------------------------------------------------------------------- the jurisdiction

JURISDICTION_ID = "shiyi"
JURISDICTION_NAME = "示例市"
DIVISION_CODE = "379900"

# (division code, name, weight of targets registered there) — all fictional.
DIVISIONS = (
    ("379902", "明湖区", 30),
    ("379903", "青山区", 25),
    ("379904", "临河区", 20),
    ("379905", "北港区", 15),
    ("379921", "清源县", 10),
)
DIVISION_NAMES = {code: name for code, name, _ in DIVISIONS}

# (id, full name, short name, prefix of item and inspector ids, qualification tags, expertise tags)
DEPARTMENTS = (
    ("amr", "示例市市场监督管理局", "市场监管局", "AMR",
     ("food", "drugs", "special_equipment", "metrology", "product_quality", "advertising", "pricing", "registration"),
     ("food_testing", "elevators", "boilers", "pressure_vessels", "pharmacy", "cosmetics")),
    ("tax", "国家税务总局示例市税务局", "税务局", "TAX", ("tax_audit", "invoices"), ("accounting", "auditing")),
    ("hrss", "示例市人力资源和社会保障局", "人社局", "HRSS", ("labour_inspection", "social_insurance"), ("labour_law",)),
    ("eco", "示例市生态环境局", "生态环境局", "ECO", ("pollution", "hazardous_waste", "eia"),
     ("water_monitoring", "air_monitoring", "solid_waste")),
    ("housing", "示例市住房和城乡建设局", "住建局", "HOUSING", ("construction_quality", "construction_safety", "property"),
     ("structural_engineering", "building_materials")),
    ("transport", "示例市交通运输局", "交通运输局", "TRANSPORT", ("road_transport", "vehicle_repair", "dangerous_goods"),
     ("vehicle_engineering",)),
    ("agri", "示例市农业农村局", "农业农村局", "AGRI", ("agrochemicals", "seeds", "veterinary_drugs", "produce_safety"),
     ("plant_protection", "animal_health")),
    ("commerce", "示例市商务局", "商务局", "COMMERCE", ("prepaid_cards", "vehicle_recycling", "fuel"), ("retail",)),
    ("culture", "示例市文化和旅游局", "文旅局", "CULTURE", ("entertainment", "tourism", "internet_cafes"), ("tourism_services",)),
    ("health", "示例市卫生健康委员会", "卫健委", "HEALTH", ("public_health", "medical", "drinking_water"),
     ("infection_control", "water_hygiene")),
    ("emergency", "示例市应急管理局", "应急管理局", "EMERGENCY", ("hazardous_chemicals", "industrial_safety"),
     ("chemical_engineering", "dust_explosion")),
    ("fire", "示例市消防救援支队", "消防救援支队", "FIRE", ("fire_safety",), ("fire_engineering",)),
)
_DEPT = {d[0]: d for d in DEPARTMENTS}
# Share of the inspector directory per department (市场监管 holds most officers).
_INSPECTOR_SHARE = {
    "amr": 32, "tax": 6, "hrss": 5, "eco": 7, "housing": 7, "transport": 7,
    "agri": 7, "commerce": 5, "culture": 6, "health": 7, "emergency": 6, "fire": 5,
}
# Departments that keep experts (专家) or third-party staff (第三方) in their directory.
_EXPERT_DEPTS = ("amr", "emergency", "eco", "housing", "health")
_THIRD_PARTY_DEPTS = ("eco", "health")

# --------------------------------------------------------------------------- the item list

_G5, _G3, _G10 = "5%", "3%", "10%"
# (id, class, target kinds, name, content, legal basis, methods, ratio cap or None, frequency)
_ITEMS_V1: tuple[tuple[Any, ...], ...] = (
    ("AMR-01", "general", (E, I, C), "营业执照（登记证）规范使用情况的检查",
     "检查营业执照（登记证）是否在住所或主要经营场所醒目位置悬挂，电子商务经营者是否在首页显著位置持续公示营业执照信息或其链接标识。",
     "《中华人民共和国市场主体登记管理条例》第三十六条；《中华人民共和国电子商务法》第十五条", (ON_SITE, ONLINE), _G10, "每年1次"),
    ("AMR-02", "general", (E, C), "企业公示信息情况的检查",
     "检查企业通过国家企业信用信息公示系统公示的年度报告和即时信息是否真实、及时，包括住所、注册资本实缴、股东出资、行政许可等信息。",
     "《企业信息公示暂行条例》第十四条", (DOCS, ON_SITE), _G5, "每年1次"),
    ("AMR-03", "focus", (E, I), "食品销售者的检查",
     "检查食品经营许可、进货查验和记录、食品贮存条件、标签标识、过期变质食品处置及从业人员健康管理情况。",
     "《中华人民共和国食品安全法》第三十五条、第五十三条、第五十四条", (ON_SITE, SAMPLING), None, ""),
    ("AMR-04", "focus", (E, I), "餐饮服务提供者的检查",
     "检查许可证照、原料控制、加工制作过程、餐用具清洗消毒、从业人员健康管理及食品安全管理制度落实情况。",
     "《中华人民共和国食品安全法》第五十五条、第五十六条", (ON_SITE,), None, ""),
    ("AMR-05", "focus", (E, I), "食品生产者的检查",
     "检查生产许可条件保持、原辅料进货查验、生产过程控制、出厂检验记录和食品安全自查情况。",
     "《中华人民共和国食品安全法》第四十四条、第四十六条、第五十条", (ON_SITE, SAMPLING, DOCS), None, ""),
    ("AMR-06", "focus", (E,), "特种设备使用单位的检查",
     "检查特种设备使用登记、定期检验、安全管理人员和作业人员持证、维护保养及事故应急预案情况。",
     "《中华人民共和国特种设备安全法》第三十三条、第三十五条、第四十条", (ON_SITE,), None, ""),
    ("AMR-07", "focus", (E,), "工业产品生产许可证获证企业的检查",
     "检查获证企业持续保持生产许可条件、产品标注许可证编号及标志、出厂检验情况。",
     "《中华人民共和国工业产品生产许可证管理条例》第三十九条", (ON_SITE, SAMPLING), None, ""),
    ("AMR-08", "general", (E, I), "计量器具和定量包装商品的检查",
     "检查强制检定的工作计量器具登记备案、按期检定及使用情况，定量包装商品净含量标注及计量是否符合规定。",
     "《中华人民共和国计量法》第九条；《定量包装商品计量监督管理办法》", (ON_SITE, SAMPLING), _G10, ""),
    ("AMR-09", "general", (E,), "广告发布的检查",
     "检查广告内容是否真实合法，广告发布者、广告经营者是否建立广告业务承接登记、审核、档案管理制度。",
     "《中华人民共和国广告法》第三十四条", (ONLINE, DOCS), _G5, ""),
    ("AMR-10", "general", (E, I), "价格收费行为的检查",
     "检查明码标价、价格公示及收费行为是否符合规定，有无价格欺诈行为。",
     "《中华人民共和国价格法》第十三条；《明码标价和禁止价格欺诈规定》", (ON_SITE,), _G5, ""),
    ("AMR-11", "focus", (E,), "药品零售企业的检查",
     "检查药品经营许可证、执业药师在岗、处方药销售管理、药品购进验收和储存条件。",
     "《中华人民共和国药品管理法》第五十一条、第五十三条", (ON_SITE, SAMPLING), None, ""),
    ("AMR-12", "general", (E, I), "化妆品经营者的检查",
     "检查化妆品进货查验记录、标签标识、贮存条件，是否经营过期或者未经注册、备案的化妆品。",
     "《化妆品监督管理条例》第三十八条", (ON_SITE,), _G5, ""),
    ("TAX-01", "general", (E, I), "发票使用情况的检查",
     "检查发票领用、开具、保管及缴销是否符合规定，有无虚开、代开发票行为。",
     "《中华人民共和国发票管理办法》第二十一条、第三十五条", (DOCS, ON_SITE), _G3, ""),
    ("TAX-02", "general", (E,), "纳税申报和税款缴纳情况的检查",
     "检查是否按期办理纳税申报，申报数据与账簿凭证是否一致，税款是否足额缴纳。",
     "《中华人民共和国税收征收管理法》第二十五条、第五十四条", (DOCS,), _G3, ""),
    ("HRSS-01", "general", (E, I), "用人单位遵守劳动保障法律法规情况的检查",
     "检查劳动合同订立、工作时间和休息休假、最低工资标准执行、工资支付及禁止使用童工规定遵守情况。",
     "《劳动保障监察条例》第十一条；《保障农民工工资支付条例》第五十条", (ON_SITE, DOCS), _G5, ""),
    ("HRSS-02", "general", (E,), "人力资源服务机构的检查",
     "检查经营性人力资源服务机构许可、备案，服务项目和收费标准公示，招聘信息发布是否真实合法。",
     "《人力资源市场暂行条例》第四十一条", (ON_SITE, DOCS), _G10, ""),
    ("ECO-01", "focus", (E,), "排污单位的检查",
     "检查排污许可证申领和执行、污染防治设施运行、自行监测、执行报告及环境管理台账记录情况。",
     "《排污许可管理条例》第三十条；《中华人民共和国环境保护法》第二十四条", (ON_SITE, DOCS), None, ""),
    ("ECO-02", "focus", (E,), "危险废物产生和经营单位的检查",
     "检查危险废物识别标志、管理计划备案、贮存设施、转移联单和经营许可证执行情况。",
     "《中华人民共和国固体废物污染环境防治法》第七十七条、第七十八条、第八十一条", (ON_SITE,), None, ""),
    ("ECO-03", "general", (E, P), "建设项目环境影响评价制度执行情况的检查",
     "检查建设项目环境影响评价文件审批或者备案、环境保护设施“三同时”及竣工环境保护验收情况。",
     "《中华人民共和国环境影响评价法》第二十五条；《建设项目环境保护管理条例》第十九条", (DOCS, ON_SITE), _G10, ""),
    ("HOUSING-01", "general", (E,), "建筑业企业资质和安全生产许可的检查",
     "检查建筑业企业资质条件保持、安全生产许可证有效性及项目负责人、专职安全生产管理人员配备情况。",
     "《建筑业企业资质管理规定》第二十四条；《安全生产许可证条例》第十四条", (DOCS, ON_SITE), _G10, ""),
    ("HOUSING-02", "focus", (P,), "在建工程质量安全的检查",
     "检查在建房屋建筑和市政基础设施工程参建各方质量安全责任落实、危险性较大的分部分项工程管理情况。",
     "《建设工程质量管理条例》第四十七条；《建设工程安全生产管理条例》第四十三条", (ON_SITE,), None, ""),
    ("HOUSING-03", "general", (E,), "物业服务企业的检查",
     "检查物业服务事项和收费标准公示、共用设施设备维修养护及电梯等公共部位安全管理情况。",
     "《物业管理条例》第三十五条、第五十四条", (ON_SITE, DOCS), _G10, ""),
    ("TRANSPORT-01", "general", (E, I), "道路运输经营者的检查",
     "检查道路运输经营许可、营运车辆技术状况和年度审验、从业人员资格及动态监控落实情况。",
     "《中华人民共和国道路运输条例》第六十条", (ON_SITE, DOCS), _G10, ""),
    ("TRANSPORT-02", "general", (E, I), "机动车维修经营者的检查",
     "检查维修经营备案、维修质量保证期执行、维修配件进货查验及维修收费公示情况。",
     "《机动车维修管理规定》第四十七条", (ON_SITE,), _G10, ""),
    ("AGRI-01", "focus", (E, I, C), "农药经营者的检查",
     "检查农药经营许可、进货查验和销售台账、限制使用农药实名购买、农药标签情况。",
     "《农药管理条例》第二十四条、第二十五条", (ON_SITE, SAMPLING), None, ""),
    ("AGRI-02", "general", (E, C), "种子生产经营者的检查",
     "检查种子生产经营许可证、种子标签和使用说明、生产经营档案及品种审定登记情况。",
     "《中华人民共和国种子法》第三十六条、第四十条", (ON_SITE, SAMPLING), _G10, ""),
    ("AGRI-03", "general", (E, I), "兽药经营者的检查",
     "检查兽药经营许可证、兽药购销记录、兽用处方药分类管理及兽药质量情况。",
     "《兽药管理条例》第二十六条、第二十七条", (ON_SITE, SAMPLING), _G10, ""),
    ("AGRI-04", "focus", (E, C), "农产品生产企业和农民专业合作社农产品质量安全的检查",
     "检查农产品生产记录、农业投入品使用、安全间隔期（休药期）执行及承诺达标合格证开具情况。",
     "《中华人民共和国农产品质量安全法》第三十五条、第三十九条", (ON_SITE, SAMPLING), None, ""),
    ("COMMERCE-01", "general", (E,), "单用途商业预付卡发卡企业的检查",
     "检查发卡企业备案、预收资金管理、发卡信息公示及购卡章程执行情况。",
     "《单用途商业预付卡管理办法（试行）》第七条、第十条", (DOCS, ON_SITE), _G10, ""),
    ("COMMERCE-02", "general", (E,), "报废机动车回收拆解企业的检查",
     "检查资质认定条件保持、回收拆解记录、“五大总成”处置及报废机动车回收证明出具情况。",
     "《报废机动车回收管理办法》第十二条", (ON_SITE,), _G10, ""),
    ("CULTURE-01", "general", (E, I), "娱乐场所的检查",
     "检查娱乐经营许可证、营业时间、禁止内容、未成年人保护规定及消费项目明示情况。",
     "《娱乐场所管理条例》第二十条、第二十七条", (ON_SITE,), _G10, ""),
    ("CULTURE-02", "general", (E,), "旅行社的检查",
     "检查旅行社业务经营许可证、质量保证金、旅游合同签订及导游委派情况。",
     "《旅行社条例》第四十一条；《中华人民共和国旅游法》第五十七条", (DOCS, ON_SITE), _G10, ""),
    ("CULTURE-03", "general", (E, I), "互联网上网服务营业场所的检查",
     "检查网络文化经营许可证、上网消费者身份核对和登记、未成年人禁入标志及营业时间情况。",
     "《互联网上网服务营业场所管理条例》第二十一条、第二十三条", (ON_SITE,), _G10, ""),
    ("HEALTH-01", "general", (E, I), "公共场所卫生的检查",
     "检查公共场所卫生许可证、从业人员健康合格证明、卫生管理制度和公共用品用具清洗消毒情况。",
     "《公共场所卫生管理条例》第八条", (ON_SITE, SAMPLING), _G10, ""),
    ("HEALTH-02", "focus", (E,), "医疗机构依法执业的检查",
     "检查医疗机构执业许可、卫生技术人员资质、医疗废物处置及传染病防控措施落实情况。",
     "《医疗机构管理条例》第二十二条；《医疗废物管理条例》第四十五条", (ON_SITE,), None, ""),
    ("HEALTH-03", "general", (E,), "集中式供水单位卫生的检查",
     "检查供水单位卫生许可证、水质消毒设施运行、水质检测及直接从事供水人员健康情况。",
     "《生活饮用水卫生监督管理办法》第二十条", (ON_SITE, SAMPLING), _G10, ""),
    ("EMERGENCY-01", "focus", (E,), "危险化学品经营单位安全生产的检查",
     "检查危险化学品经营许可证、安全管理制度、储存设施、从业人员培训及应急预案情况。",
     "《危险化学品安全管理条例》第三十三条、第三十四条", (ON_SITE,), None, ""),
    ("EMERGENCY-02", "general", (E,), "工贸企业安全生产的检查",
     "检查安全生产责任制、安全培训、隐患排查治理、有限空间作业及粉尘防爆措施落实情况。",
     "《中华人民共和国安全生产法》第二十一条、第四十一条", (ON_SITE, DOCS), _G10, ""),
    ("FIRE-01", "focus", (E, I), "人员密集场所消防安全的检查",
     "检查消防安全责任落实、疏散通道和安全出口畅通、消防设施器材完好有效及防火巡查情况。",
     "《中华人民共和国消防法》第十六条、第二十八条", (ON_SITE,), None, ""),
    ("FIRE-02", "general", (E,), "单位消防安全管理情况的检查",
     "检查消防安全制度、消防安全责任人和管理人落实、建筑消防设施维护保养检测及员工消防安全培训情况。",
     "《中华人民共和国消防法》第十六条、第十七条；《机关、团体、企业、事业单位消防安全管理规定》", (ON_SITE, DOCS), _G10, ""),
)
_ITEMS_V2_ADDED: tuple[tuple[Any, ...], ...] = (
    ("TRANSPORT-03", "focus", (E,), "危险货物道路运输企业的检查",
     "检查危险货物运输车辆和专用设备、驾驶人员和押运人员资格、托运查验及安全生产管理制度执行情况。",
     "《危险货物道路运输安全管理办法》第五十六条", (ON_SITE, DOCS), None, ""),
    ("COMMERCE-03", "general", (E,), "成品油零售经营企业的检查",
     "检查成品油零售经营资格、油品进销存台账、计量器具使用及经营场所安全管理情况。",
     "《成品油市场管理办法》第二十一条", (ON_SITE,), _G10, ""),
)
# Version 2 also amends the legal basis of AMR-02 (the 2024 revision of the regulation).
_V2_AMENDED = {"AMR-02": {"legal_basis": "《企业信息公示暂行条例》（2024年修订）第十四条、第十五条"}}
ITEMS_V1_PUBLISHED = date(2025, 1, 15)
ITEMS_V2_PUBLISHED = date(2026, 1, 20)


def _ratio(s: str | None) -> Fraction | None:
    if s is None:
        return None
    return Fraction(int(s.rstrip("%")), 100)


def _item(row: tuple[Any, ...]) -> model.Item:
    iid, cls, kinds, name, content, basis, methods, cap, freq = row
    dept = iid.split("-")[0].lower()
    return model.Item(
        id=iid,
        department=dept,
        name=name,
        item_class=ItemClass(cls),
        subjects=(dept,),
        target_kinds=tuple(kinds),
        content=content,
        legal_basis=basis,
        methods=tuple(methods),
        ratio_cap=_ratio(cap),
        frequency=freq,
    )


def item_list() -> model.ItemList:
    v1 = tuple(_item(r) for r in _ITEMS_V1)
    v2 = tuple(replace(it, **_V2_AMENDED.get(it.id, {})) for it in v1) + tuple(_item(r) for r in _ITEMS_V2_ADDED)
    v2 = tuple(sorted(v2, key=lambda it: (_DEPT_ORDER[it.department], it.id)))
    return model.ItemList(
        (
            model.ItemListVersion(1, ITEMS_V1_PUBLISHED, "首次公布", v1),
            model.ItemListVersion(
                2,
                ITEMS_V2_PUBLISHED,
                "动态调整：新增危险货物道路运输企业、成品油零售经营企业检查事项；更新企业公示信息检查依据",
                v2,
            ),
        )
    )


_DEPT_ORDER = {d[0]: i for i, d in enumerate(DEPARTMENTS)}


def jurisdiction() -> model.Jurisdiction:
    return model.Jurisdiction(
        id=JURISDICTION_ID,
        name=JURISDICTION_NAME,
        division_code=DIVISION_CODE,
        origin="sunshine.example/shiyi",
        office="amr",
        departments=tuple(model.Department(d[0], d[1], d[2]) for d in DEPARTMENTS),
        sample=True,
        settings=model.Settings(entry_within_workdays=3),
        site=model.SiteInfo(
            host="示例市人民政府（示例数据，虚构）",
            organiser="示例市市场监督管理局（示例市“双随机、一公开”监管工作联席会议办公室）",
            address="示例市明湖区示例路1号（虚构地址）",
            phone="0000-00000000（示例）",
            icp="示例ICP备00000000号（示例）",
            police_record="示例公网安备00000000000000号（示例）",
            website_code="0000000000",
        ),
    )


# --------------------------------------------------------------------------- plans and tasks

# Strata by the lowest ratio cap of the task's 一般 items (玉林 三(二): a task never exceeds a cap):
# (C/D ratio, abnormal-list ratio, A ratio, remainder ratio).
_RATIOS = {
    None: ("20%", "15%", "3%", "8%"),
    "10%": ("10%", "10%", "2%", "5%"),
    "5%": ("5%", "5%", "1%", "3%"),
    "3%": ("3%", "3%", "1%", "2%"),
}


def _strata(profile: str, cap: Fraction | None) -> tuple[model.Stratum, ...]:
    key = None if cap is None else writing.format_ratio(cap)
    high, abnormal, low, rest = (_ratio(r) for r in _RATIOS[key])
    remainder = model.Stratum("rest", "其他检查对象", rest, minimum=1)  # type: ignore[arg-type]
    if profile == "credit":  # credit-risk classes (sealed) + abnormal list + remainder
        return (
            model.Stratum("high", "信用风险较高和高（C、D类）", high, credit_classes=(CreditClass.C, CreditClass.D)),  # type: ignore[arg-type]
            model.Stratum("abnormal", "列入经营异常名录", abnormal, flags=(TargetFlag.ABNORMAL,)),  # type: ignore[arg-type]
            model.Stratum("low", "信用风险低（A类）", low, credit_classes=(CreditClass.A,)),  # type: ignore[arg-type]
            remainder,
        )
    if profile == "flags":  # higher ratio for abnormal-list, seriously illegal and complaint-heavy targets
        return (
            model.Stratum(
                "attention", "重点关注对象（经营异常、严重违法失信、投诉举报较多）", abnormal,  # type: ignore[arg-type]
                flags=(TargetFlag.ABNORMAL, TargetFlag.SERIOUS_ILLEGAL, TargetFlag.COMPLAINTS),
            ),
            remainder,
        )
    return (replace(remainder, label="全部检查对象"),)


@dataclass(frozen=True)
class _TaskTemplate:
    key: str  # "2025-01"
    name: str
    items: tuple[str, ...]
    lead: str
    participants: tuple[str, ...]
    kinds: tuple[TargetKind, ...]
    industries: tuple[str, ...]
    strata: str  # "credit" | "flags" | "plain"
    notice: NoticeMode
    qualifications: tuple[str, ...]
    experts: int
    draw: str
    start: str
    end: str
    description: str
    divisions: tuple[str, ...] = ()


N, X = NoticeMode.NOTIFIED, NoticeMode.NO_NOTICE
_TASKS_2025 = (
    _TaskTemplate("2025-01", "2025年食品销售和餐饮服务单位联合抽查", ("AMR-03", "AMR-04", "AMR-05", "FIRE-01"), "amr",
                  ("fire",), (E, I), ("F52", "H62", "C13", "C14"), "credit", N, ("food",), 0,
                  "2025-03-12", "2025-03-17", "2025-05-30",
                  "对食品销售者、餐饮服务提供者和食品生产者开展食品安全与人员密集场所消防安全联合检查，一次检查、全面体检。"),
    _TaskTemplate("2025-02", "2025年工贸企业和特种设备安全联合抽查", ("EMERGENCY-02", "AMR-06", "AMR-07"), "emergency",
                  ("amr",), (E,), ("C",), "credit", N, ("industrial_safety",), 1,
                  "2025-03-20", "2025-03-24", "2025-06-13",
                  "对制造业企业的安全生产责任落实和特种设备使用管理开展联合检查，邀请特种设备专家参与。"),
    _TaskTemplate("2025-03", "2025年危险化学品和危险废物联合抽查", ("EMERGENCY-01", "ECO-01", "ECO-02"), "eco",
                  ("emergency",), (E,), ("C26", "F516"), "flags", X, ("hazardous_waste",), 1,
                  "2025-04-08", "2025-04-14", "2025-06-30",
                  "对涉危险化学品、危险废物单位开展不预先告知的联合检查，检查结束后公开抽查名单。"),
    _TaskTemplate("2025-04", "2025年道路运输和机动车维修联合抽查", ("TRANSPORT-01", "TRANSPORT-02", "COMMERCE-02"),
                  "transport", ("commerce",), (E, I), ("G54", "O81", "C42"), "credit", N, ("road_transport",), 0,
                  "2025-04-15", "2025-04-21", "2025-06-27",
                  "对道路运输经营者、机动车维修经营者和报废机动车回收拆解企业开展联合检查。"),
    _TaskTemplate("2025-05", "2025年农资和农产品质量安全联合抽查", ("AGRI-01", "AGRI-02", "AGRI-03", "AGRI-04", "AMR-08"),
                  "agri", ("amr",), (E, I, C), ("A", "F516"), "credit", N, ("agrochemicals",), 0,
                  "2025-06-24", "2025-07-01", "2025-08-29",
                  "对农药、种子、兽药经营者和农产品生产主体开展联合检查，同步检查计量器具使用情况。"),
    _TaskTemplate("2025-06", "2025年文化旅游和公共场所联合抽查",
                  ("CULTURE-01", "CULTURE-02", "CULTURE-03", "HEALTH-01", "COMMERCE-01"), "culture",
                  ("health", "commerce"), (E, I), ("R90", "L729", "O80", "H61"), "credit", N, ("entertainment",), 0,
                  "2025-05-13", "2025-05-19", "2025-07-31",
                  "对娱乐场所、旅行社、上网服务场所和住宿、美容美发、洗浴等公共场所开展联合检查，同步检查单用途预付卡发卡情况。"),
    _TaskTemplate("2025-07", "2025年用人单位劳动用工和涉税事项联合抽查", ("HRSS-01", "HRSS-02", "TAX-01", "TAX-02"), "hrss",
                  ("tax",), (E,), (), "credit", N, ("labour_inspection",), 0,
                  "2025-05-20", "2025-06-03", "2025-08-29",
                  "对用人单位劳动保障法律法规遵守情况和发票使用、纳税申报情况开展联合检查。"),
    _TaskTemplate("2025-08", "2025年建筑市场和在建工程联合抽查", ("HOUSING-01", "HOUSING-02", "ECO-03"), "housing",
                  ("eco",), (E, P), ("E47", "E48"), "flags", N, ("construction_quality",), 0,
                  "2025-06-10", "2025-06-16", "2025-09-12",
                  "对建筑业企业和在建房屋建筑工程开展质量安全与环境影响评价制度执行情况联合检查。"),
    _TaskTemplate("2025-09", "2025年物业服务企业和单位消防安全联合抽查", ("HOUSING-03", "FIRE-02"), "housing",
                  ("fire",), (E,), ("K70",), "plain", N, ("property",), 0,
                  "2025-08-05", "2025-08-11", "2025-10-17",
                  "对物业服务企业的服务公示、共用设施设备维护和消防安全管理开展联合检查。"),
    _TaskTemplate("2025-10", "2025年企业公示信息和经营行为规范抽查",
                  ("AMR-01", "AMR-02", "AMR-09", "AMR-10", "AMR-11", "AMR-12"), "amr", (), (E, I, C), (), "credit", N,
                  ("registration",), 0, "2025-09-02", "2025-09-08", "2025-11-28",
                  "对市场主体营业执照使用、公示信息、广告发布、价格收费和药品、化妆品经营开展检查。"),
    _TaskTemplate("2025-11", "2025年医疗机构和集中式供水单位抽查", ("HEALTH-02", "HEALTH-03"), "health", (), (E,),
                  ("Q84", "D46"), "plain", N, ("medical",), 0, "2025-09-16", "2025-09-22", "2025-11-14",
                  "对医疗机构依法执业和集中式供水单位卫生情况开展检查。"),
)
# Added by the adjusted version 2 of the 2025 plan.
_TASK_2025_ADDED = _TaskTemplate(
    "2025-12", "2025年学校周边食品和上网服务场所专项联合抽查", ("AMR-03", "CULTURE-03"), "amr", ("culture",), (E, I),
    ("F52", "R9013"), "plain", X, ("food",), 0, "2025-08-26", "2025-09-01", "2025-10-31",
    "秋季开学前后，对中小学校周边食品销售者和互联网上网服务营业场所开展不预先告知的专项联合检查。",
    divisions=("379902", "379903"),
)
# Version 2 of the 2025 plan postpones task 2025-05 (农资供应期).
_TASK_2025_05_V2 = {"draw": "2025-07-08", "start": "2025-07-14", "end": "2025-09-26"}

_TASKS_2026 = (
    _TaskTemplate("2026-01", "2026年餐饮服务单位和人员密集场所联合抽查", ("AMR-04", "FIRE-01"), "amr", ("fire",), (E, I),
                  ("H62", "H61"), "credit", N, ("food",), 0, "2026-03-10", "2026-03-16", "2026-05-29",
                  "对餐饮服务提供者和宾馆等人员密集场所开展食品安全与消防安全联合检查。"),
    _TaskTemplate("2026-02", "2026年食品生产销售和计量抽查", ("AMR-03", "AMR-05", "AMR-07", "AMR-08"), "amr", (), (E, I),
                  ("F52", "C13", "C14", "C2"), "credit", N, ("food",), 0, "2026-03-17", "2026-03-23", "2026-06-12",
                  "对食品生产经营者、工业产品生产许可证获证企业和计量器具使用情况开展检查。"),
    _TaskTemplate("2026-03", "2026年危险化学品和工贸企业安全联合抽查", ("EMERGENCY-01", "EMERGENCY-02", "AMR-06"),
                  "emergency", ("amr",), (E,), ("C", "F516"), "credit", N, ("industrial_safety",), 1,
                  "2026-04-07", "2026-04-13", "2026-06-26",
                  "对危险化学品经营单位和工贸企业开展安全生产与特种设备联合检查，邀请专家参与。"),
    _TaskTemplate("2026-04", "2026年建筑市场、在建工程和物业服务联合抽查",
                  ("HOUSING-01", "HOUSING-02", "HOUSING-03", "ECO-03", "FIRE-02"), "housing", ("eco", "fire"), (E, P),
                  ("E47", "E48", "K70"), "flags", N, ("construction_safety",), 0,
                  "2026-04-14", "2026-04-20", "2026-07-10",
                  "对建筑业企业、在建工程和物业服务企业开展质量安全、环评制度执行和消防安全联合检查。"),
    _TaskTemplate("2026-05", "2026年排污单位和危险废物抽查", ("ECO-01", "ECO-02"), "eco", (), (E,), ("C",), "flags", X,
                  ("pollution",), 1, "2026-05-12", "2026-05-18", "2026-07-17",
                  "对排污单位和危险废物产生单位开展不预先告知的检查，检查结束后公开抽查名单。"),
    _TaskTemplate("2026-06", "2026年道路运输和成品油、报废机动车联合抽查",
                  ("TRANSPORT-01", "TRANSPORT-02", "TRANSPORT-03", "COMMERCE-02", "COMMERCE-03"), "transport",
                  ("commerce",), (E, I), ("G54", "O81", "C42", "F5265"), "credit", N, ("road_transport",), 0,
                  "2026-05-19", "2026-05-25", "2026-08-14",
                  "对道路运输、危险货物运输、机动车维修、报废机动车回收拆解和成品油零售经营者开展联合检查。"),
    _TaskTemplate("2026-07", "2026年农资市场联合抽查", ("AGRI-01", "AGRI-02", "AGRI-03", "AGRI-04", "AMR-10"), "agri",
                  ("amr",), (E, I, C), ("A", "F516"), "credit", N, ("agrochemicals",), 0,
                  "2026-06-09", "2026-06-15", "2026-08-28",
                  "对农资经营者和农产品生产主体开展质量安全与明码标价联合检查。"),
    _TaskTemplate("2026-08", "2026年文化旅游市场和公共场所联合抽查",
                  ("CULTURE-01", "CULTURE-02", "CULTURE-03", "HEALTH-01", "COMMERCE-01"), "culture",
                  ("health", "commerce"), (E, I), ("R90", "L729", "O80", "H61"), "credit", N, ("tourism",), 0,
                  "2026-07-07", "2026-07-13", "2026-09-25",
                  "暑期文化旅游市场联合检查，覆盖娱乐场所、旅行社、上网服务场所和公共场所。"),
    _TaskTemplate("2026-09", "2026年涉税事项和劳动用工联合抽查", ("TAX-01", "TAX-02", "HRSS-01", "HRSS-02"), "tax",
                  ("hrss",), (E,), (), "credit", N, ("tax_audit",), 0, "2026-09-08", "2026-09-14", "2026-11-20",
                  "对纳税人发票使用、纳税申报和用人单位劳动用工情况开展联合检查。"),
    _TaskTemplate("2026-10", "2026年企业公示信息和经营行为规范抽查",
                  ("AMR-01", "AMR-02", "AMR-09", "AMR-11", "AMR-12"), "amr", (), (E, I, C), (), "credit", N,
                  ("registration",), 0, "2026-09-08", "2026-09-14", "2026-11-27",
                  "对市场主体营业执照使用、公示信息、广告发布和药品、化妆品经营开展检查。"),
    _TaskTemplate("2026-11", "2026年医疗机构和集中式供水单位抽查", ("HEALTH-02", "HEALTH-03"), "health", (), (E,),
                  ("Q84", "D46"), "plain", N, ("medical",), 0, "2026-10-13", "2026-10-19", "2026-12-18",
                  "对医疗机构依法执业和集中式供水单位卫生情况开展检查。"),
)

PLAN_2025_V1 = (date(2025, 2, 20), date(2025, 2, 28))
PLAN_2025_V2 = (date(2025, 6, 10), date(2025, 6, 16))
PLAN_2026_V1 = (date(2026, 2, 5), date(2026, 2, 13))
CATALOGUE_TASKS = len(_TASKS_2025) + 1 + len(_TASKS_2026)


def _cap(items: Sequence[str], version: model.ItemListVersion) -> Fraction | None:
    caps = [version.item(i).ratio_cap for i in items if version.item(i).ratio_cap is not None]
    return min(caps) if caps else None  # type: ignore[type-var]


def _task(tpl: _TaskTemplate, year: int, tid: str, version: model.ItemListVersion, **over: Any) -> model.Task:
    t = replace(tpl, **over) if over else tpl
    single = not t.participants
    return model.Task(
        id=tid,
        year=year,
        name=t.name,
        items=t.items,
        lead=t.lead,
        participants=t.participants,
        scope=model.Scope(kinds=t.kinds, divisions=t.divisions, industries=t.industries),
        strata=_strata(t.strata, _cap(t.items, version)),
        notice=t.notice,
        team=model.TeamRules(
            min_officers=2,
            per_department=2 if single else 1,
            experts=t.experts,
            qualifications=t.qualifications,
        ),
        draw_date=date.fromisoformat(t.draw),
        start=date.fromisoformat(t.start),
        end=date.fromisoformat(t.end),
        description=t.description,
    )


def _extra_tasks(templates: Sequence[_TaskTemplate], count: int, first: int) -> list[tuple[_TaskTemplate, int]]:
    """*count* more tasks for large scales: the catalogue's tasks again, each narrowed to one district
    and one industry class (or one kind of target), so that a big city's pools stay a realistic size."""
    out = []
    for k in range(count):
        tpl = templates[k % len(templates)]
        round_ = k // len(templates)
        code, dname, _ = DIVISIONS[round_ % len(DIVISIONS)]
        variant = round_ // len(DIVISIONS)
        if tpl.industries:
            classes = [row for row in _INDUSTRIES if row[0].startswith(tpl.industries)]
            row = classes[variant % len(classes)]
            narrowed = {"industries": (row[0],)}
            label = f"{dname}·{row[1]}"
            batch = variant // len(classes) + 1
        else:
            kinds = tpl.kinds
            kind = kinds[variant % len(kinds)]
            narrowed = {"kinds": (kind,)}
            label = f"{dname}·{kind.label}"
            batch = variant // len(kinds) + 1
        out.append(
            (
                replace(
                    tpl,
                    name=f"{tpl.name}（{label}）" + (f"第{batch}批" if batch > 1 else ""),
                    divisions=(code,),
                    description=f"{tpl.description}本任务在{dname}实施。",
                    **narrowed,
                ),
                first + k,
            )
        )
    return out


def plans(items: model.ItemList, tasks: int) -> tuple[model.Plan, ...]:
    """The annual plans 2025 (two versions) and 2026 with *tasks* tasks in all (≥ the catalogue's 23)."""
    if tasks < CATALOGUE_TASKS:
        raise ValueError(f"expected at least {CATALOGUE_TASKS} tasks (the sample's catalogue), got {tasks}")
    extra = tasks - CATALOGUE_TASKS
    extra_2025 = extra // 2
    extra_2026 = extra - extra_2025
    n2025 = len(_TASKS_2025) + 1 + extra_2025
    n2026 = len(_TASKS_2026) + extra_2026
    w25 = max(2, len(str(n2025)))
    w26 = max(2, len(str(n2026)))
    v1_items, v2_items = items.in_force(PLAN_2025_V1[1]), items.in_force(PLAN_2026_V1[1])
    assert v1_items is not None and v2_items is not None

    def tid(year: int, n: int, width: int) -> str:
        return f"{year}-{n:0{width}d}"

    base25 = [(tpl, i + 1) for i, tpl in enumerate(_TASKS_2025)]
    extras25 = _extra_tasks(_TASKS_2025, extra_2025, len(_TASKS_2025) + 2)
    v1 = [_task(tpl, 2025, tid(2025, n, w25), v1_items) for tpl, n in base25 + extras25]
    v2 = []
    for tpl, n in base25 + extras25:
        over = _TASK_2025_05_V2 if tpl.key == "2025-05" else {}
        v2.append(_task(tpl, 2025, tid(2025, n, w25), v1_items, **over))
    v2.insert(len(_TASKS_2025), _task(_TASK_2025_ADDED, 2025, tid(2025, len(_TASKS_2025) + 1, w25), v1_items))

    base26 = [(tpl, i + 1) for i, tpl in enumerate(_TASKS_2026)]
    extras26 = _extra_tasks(_TASKS_2026, extra_2026, len(_TASKS_2026) + 1)
    t26 = [_task(tpl, 2026, tid(2026, n, w26), v2_items) for tpl, n in base26 + extras26]

    return (
        model.Plan(
            2025,
            "示例市2025年度市场监管领域部门联合“双随机、一公开”抽查工作计划",
            (
                model.PlanVersion(1, *PLAN_2025_V1, "首次公布", tuple(v1)),
                model.PlanVersion(
                    2,
                    *PLAN_2025_V2,
                    "调整：2025-05任务因农资供应旺季推迟实施；新增2025-12学校周边食品和上网服务场所专项联合抽查",
                    tuple(v2),
                ),
            ),
        ),
        model.Plan(
            2026,
            "示例市2026年度市场监管领域部门联合“双随机、一公开”抽查工作计划",
            (model.PlanVersion(1, *PLAN_2026_V1, "首次公布", tuple(t26)),),
        ),
    )


# --------------------------------------------------------------------------- the target directory

# (GB/T 4754-2017 code, enterprise name word, individual name word or "", cooperative word or "",
#  weight among enterprises, among individuals, among cooperatives, key industry)
_INDUSTRIES = (
    ("F5211", "百货", "百货店", "", 3, 2, 0, False),
    ("F5212", "超市", "便利店", "", 6, 8, 0, False),
    ("F5221", "粮油", "粮油店", "", 2, 4, 0, False),
    ("F5224", "生鲜食品", "生鲜店", "", 2, 5, 0, True),
    ("F5226", "烟酒茶叶", "烟酒店", "", 2, 5, 0, False),
    ("F5234", "化妆品", "化妆品店", "", 2, 2, 0, False),
    ("F5251", "大药房", "", "", 3, 0, 0, True),
    ("F5265", "石油销售", "", "", 1, 0, 0, True),
    ("F5166", "农资", "农资店", "", 2, 2, 0, True),
    ("H6210", "餐饮管理", "饭店", "", 5, 9, 0, True),
    ("H6220", "快餐", "小吃店", "", 3, 10, 0, True),
    ("H6110", "酒店管理", "宾馆", "", 2, 2, 0, False),
    ("C1392", "食品", "豆制品加工坊", "", 1, 1, 0, True),
    ("C1431", "食品", "糕点坊", "", 2, 1, 0, True),
    ("C2631", "农药化工", "", "", 0.5, 0, 0, True),
    ("C2641", "涂料", "", "", 1, 0, 0, True),
    ("C2110", "家具", "", "", 2, 0, 0, False),
    ("C3311", "钢结构", "", "", 2, 0, 0, False),
    ("C4210", "再生资源回收", "", "", 1, 0, 0, False),
    ("E4710", "建筑工程", "", "", 4, 0, 0, False),
    ("E4812", "路桥工程", "", "", 1, 0, 0, False),
    ("K7010", "房地产开发", "", "", 2, 0, 0, False),
    ("K7020", "物业服务", "", "", 3, 0, 0, False),
    ("G5431", "物流", "货运部", "", 4, 3, 0, False),
    ("G5411", "公交客运", "", "", 0.3, 0, 0, False),
    ("O8111", "汽车维修", "汽车修理部", "", 2, 5, 0, False),
    ("O8040", "美容美发", "理发店", "", 2, 8, 0, False),
    ("O8051", "洗浴", "浴池", "", 1, 2, 0, False),
    ("R9011", "文化娱乐", "歌舞厅", "", 1, 1, 0, False),
    ("R9013", "网络科技", "网吧", "", 1, 2, 0, False),
    ("L7291", "国际旅行社", "", "", 1, 0, 0, False),
    ("L7262", "人力资源", "", "", 1.5, 0, 0, False),
    ("L7211", "企业管理", "", "", 3, 0, 0, False),
    ("M7452", "消防检测", "", "", 0.7, 0, 0, False),
    ("Q8411", "医院", "", "", 0.5, 0, 0, True),
    ("Q8425", "门诊部", "诊所", "", 1, 1, 0, True),
    ("D4610", "供水", "", "", 0.3, 0, 0, False),
    ("I6510", "软件科技", "", "", 4, 0, 0, False),
    ("A0141", "农业发展", "", "蔬菜种植", 1, 0, 5, False),
    ("A0151", "果业", "", "果品种植", 0.5, 0, 3, False),
    ("A0313", "牧业", "", "生猪养殖", 1, 0, 3, False),
    ("A0511", "种业", "", "种苗", 0.5, 0, 2, False),
)
_PROJECT_WORDS = (("E4710", "住宅小区{n}期工程"), ("E4710", "产业园标准厂房{n}号楼工程"), ("E4812", "路改造工程"))
_TRADE_NAME_CHARS = (
    "鑫旺兴盛华泰和祥瑞丰源达信诚宏恒润嘉安康福顺聚永隆昌荣辉金东方德明新益佳美广天海山川泽宇晟博联腾远航鼎汇通"
    "正元亨利同仁睿卓越锦程创伟星光"
)
_ENTERPRISE_FORMS = ("有限公司",) * 8 + ("有限责任公司",) * 2 + ("股份有限公司",)
_KIND_WEIGHTS = ((E, 55), (I, 40), (C, 4), (P, 1))
_STATUS_WEIGHTS = (
    (RegistrationStatus.ACTIVE, 910),
    (RegistrationStatus.DEREGISTERED, 45),
    (RegistrationStatus.REVOKED, 20),
    (RegistrationStatus.CANCELLED, 5),
    (RegistrationStatus.MOVED_OUT, 20),
)
_USCC_KIND = {E: "1", I: "2", C: "3"}  # GB 32100 position 2 under 登记管理部门 9 (市场监管)
_ORG_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_FIRST_DAY = date(1998, 1, 1).toordinal()
_LAST_DAY = date(2026, 9, 30).toordinal()
_MA_SINCE = date(2015, 10, 1)  # codes issued after the USCC reform carry "MA…" organisation codes
_NEW_SINCE = date(2026, 1, 1)  # TargetFlag.NEW


class _Weighted:
    """Weighted choice by bisection on cumulative weights (fast, deterministic)."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]):
        self.values = [v for v, w in pairs if w > 0]
        total, cum = 0.0, []
        for _, w in pairs:
            if w > 0:
                total += w
                cum.append(total)
        self.cum = [c / total for c in cum]
        self.cum[-1] = 1.0

    def pick(self, rnd: Callable[[], float]) -> Any:
        return self.values[bisect.bisect_right(self.cum, rnd())]


def _gb11714_check(body8: str) -> str:
    """GB 11714 organisation-code check character for 8 characters (digits and capital letters)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, weights))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def _legacy_number(prefix14: str) -> str:
    """A 15-digit registration number with a valid GB 12405 check digit."""
    for d in "0123456789":
        if uscc.legacy_check_ok(prefix14 + d):
            return prefix14 + d
    raise AssertionError("no GB 12405 check digit")  # pragma: no cover - one digit always fits


class _CodeMaker:
    """USCCs from random integers, with the GB 11714 and GB 32100 check characters computed from
    precomputed partial sums of 3- and 4-character chunks (a million codes in about a second)."""

    _GB11714_W = (3, 7, 9, 10, 5, 8, 4, 2)

    def __init__(self) -> None:
        alpha = uscc.ALPHABET
        uval = {c: i for i, c in enumerate(alpha)}
        self.uw = [pow(3, i, 31) for i in range(17)]

        def oval(c: str) -> int:  # GB 11714 value: digits 0-9, letters A=10 … Z=35
            return int(c) if c.isdigit() else ord(c) - 55

        triples = [a + b + c for a in alpha for b in alpha for c in alpha]
        quads = [f"{n:04d}" for n in range(10_000)]
        ow, uw = self._GB11714_W, self.uw
        self.triples = triples
        self.quads = quads
        self.ma_o = oval("M") * ow[0] + oval("A") * ow[1]
        self.ma_u = uval["M"] * uw[8] + uval["A"] * uw[9]

        def chunk_sums(chars: str, width: int, value: Callable[[str], int], weights: Sequence[int]) -> list[int]:
            # sums of value(ch) * weight over all width-character strings, in the order of triples/quads
            sums = [0]
            for k in range(width):
                sums = [s + value(ch) * weights[k] for s in sums for ch in chars]
            return sums

        # organisation-code bodies start at USCC position 9 (index 8); "MA" takes body positions 0–1
        self.t_o = [chunk_sums(alpha, 3, oval, ow[p : p + 3]) for p in (2, 5)]
        self.t_u = [chunk_sums(alpha, 3, uval.__getitem__, uw[8 + p : 11 + p]) for p in (2, 5)]
        digits = "0123456789"
        self.q_o = [chunk_sums(digits, 4, int, ow[p : p + 4]) for p in (0, 4)]
        self.q_u = [chunk_sums(digits, 4, uval.__getitem__, uw[8 + p : 12 + p]) for p in (0, 4)]
        self.c9_u = {c: uval[c] * uw[16] for c in "0123456789X"}
        self.head: dict[str, int] = {}
        self.uval = uval

    def _head(self, head8: str) -> int:
        s = self.head.get(head8)
        if s is None:
            s = self.head[head8] = sum(self.uval[c] * w for c, w in zip(head8, self.uw))
        return s

    @staticmethod
    def _c9(total: int) -> str:
        c9 = 11 - total % 11
        return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)

    def new_style(self, head8: str, n: int) -> str:
        """``head8`` + "MA" + 6 characters from *n* (< 31**6) + the two check characters."""
        hi, lo = divmod(n, 29_791)
        body = "MA" + self.triples[hi] + self.triples[lo]
        c9 = self._c9(self.ma_o + self.t_o[0][hi] + self.t_o[1][lo])
        s = self._head(head8) + self.ma_u + self.t_u[0][hi] + self.t_u[1][lo] + self.c9_u[c9]
        return f"{head8}{body}{c9}{uscc.ALPHABET[(31 - s % 31) % 31]}"

    def old_style(self, head8: str, n: int) -> str:
        """``head8`` + an 8-digit organisation code from *n* (< 10**8) + the two check characters."""
        hi, lo = divmod(n, 10_000)
        c9 = self._c9(self.q_o[0][hi] + self.q_o[1][lo])
        s = self._head(head8) + self.q_u[0][hi] + self.q_u[1][lo] + self.c9_u[c9]
        return f"{head8}{self.quads[hi]}{self.quads[lo]}{c9}{uscc.ALPHABET[(31 - s % 31) % 31]}"


def iter_targets(scale: int, seed: int) -> Iterator[model.Target]:
    """The *scale* rows of the target directory, in a fixed order."""
    rnd = random.Random(f"sunshine-demo/{seed}/targets").random
    kinds = _Weighted(_KIND_WEIGHTS)
    divisions = _Weighted([(d, w) for d, _, w in DIVISIONS])
    ind_by_kind = {
        E: _Weighted([(row, row[4]) for row in _INDUSTRIES]),
        I: _Weighted([(row, row[5]) for row in _INDUSTRIES]),
        C: _Weighted([(row, row[6]) for row in _INDUSTRIES]),
    }
    statuses = _Weighted(_STATUS_WEIGHTS)
    forms = _ENTERPRISE_FORMS
    chars = _TRADE_NAME_CHARS
    nchars = len(chars)
    codes = _CodeMaker()
    credit_normal = _Weighted([(CreditClass.A, 32), (CreditClass.B, 50), (CreditClass.C, 13), (CreditClass.D, 5)])
    credit_abnormal = _Weighted([(CreditClass.B, 20), (CreditClass.C, 50), (CreditClass.D, 30)])
    secondary = [row[0] for row in _INDUSTRIES if row[4] > 0]
    flag_sets: dict[tuple[TargetFlag, ...], frozenset[TargetFlag]] = {}
    dates: dict[int, date] = {}
    seen: set[str] = set()
    # two rows carry a wrong check character on purpose: real directories have such codes (a warning)
    wrong_at = [scale // 3, (2 * scale) // 3]
    project_seq = 0
    span = _LAST_DAY - _FIRST_DAY
    ma_space, old_space = 31**6, 10**8
    ABNORMAL, SERIOUS, COMPLAINTS, KEY, NEW = (
        TargetFlag.ABNORMAL, TargetFlag.SERIOUS_ILLEGAL, TargetFlag.COMPLAINTS, TargetFlag.KEY_INDUSTRY, TargetFlag.NEW,
    )
    new_since = _NEW_SINCE.toordinal()
    ma_since = _MA_SINCE.toordinal()

    for index in range(scale):
        kind = kinds.pick(rnd)
        division = divisions.pick(rnd)
        dname = DIVISION_NAMES[division]
        trade = chars[int(rnd() * nchars)] + chars[int(rnd() * nchars)]
        if kind is P:
            project_seq += 1
            industry, word = _PROJECT_WORDS[int(rnd() * len(_PROJECT_WORDS))]
            name = f"{dname}{trade}" + word.format(n="一二三四五"[int(rnd() * 5)])
            code = f"P-{division}-{2024 + int(rnd() * 3)}-{project_seq:04d}"
            seen.add(code)
            yield model.Target(code, name, kind, division, (industry,), RegistrationStatus.ACTIVE, frozenset(), None, None)
            continue

        row = ind_by_kind[kind].pick(rnd)
        industries: tuple[str, ...] = (row[0],)
        if kind is E and rnd() < 0.1:
            other = secondary[int(rnd() * len(secondary))]
            if other != row[0]:
                industries = (row[0], other)
        if kind is E:
            name = f"{JURISDICTION_NAME}{trade}{row[1]}{forms[int(rnd() * len(forms))]}"
        elif kind is I:
            name = f"{dname}{trade}{row[2]}"
        else:
            name = f"{dname}{trade}{row[3]}专业合作社"
        ordinal = _FIRST_DAY + int(span * rnd() ** 0.6)
        established = dates.get(ordinal)
        if established is None:
            established = dates[ordinal] = date.fromordinal(ordinal)
        status = statuses.pick(rnd)
        abnormal = rnd() < 0.06
        flags = []
        if abnormal:
            flags.append(ABNORMAL)
        if kind is E and rnd() < (0.08 if abnormal else 0.003):
            flags.append(SERIOUS)
        if rnd() < 0.03:
            flags.append(COMPLAINTS)
        if row[7] and rnd() < 0.6:
            flags.append(KEY)
        if ordinal >= new_since:
            flags.append(NEW)
        key = tuple(flags)
        flag_set = flag_sets.get(key)
        if flag_set is None:
            flag_set = flag_sets[key] = frozenset(flags)
        if kind is E or rnd() < (0.65 if kind is I else 0.8):
            credit = (credit_abnormal if abnormal else credit_normal).pick(rnd)
        else:
            credit = None

        head8 = f"9{_USCC_KIND[kind]}{division}"
        while True:
            if kind is I and ordinal < ma_since and rnd() < 0.02:
                code = _legacy_number(f"{division}6{int(rnd() * 10**7):07d}")
            else:
                if ordinal >= ma_since:
                    code = codes.new_style(head8, int(rnd() * ma_space))
                else:
                    code = codes.old_style(head8, int(rnd() * old_space))
                if wrong_at and index >= wrong_at[0]:
                    wrong_at.pop(0)
                    code = code[:17] + uscc.ALPHABET[(uscc.ALPHABET.index(code[17]) + 7) % 31]
            if code not in seen:
                seen.add(code)
                break
        yield model.Target(code, name, kind, division, industries, status, flag_set, credit, established)


# --------------------------------------------------------------------------- the inspector directory

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁晨阳佳欣悦"


def iter_inspectors(total: int, seed: int, conflict_pool: Sequence[str], *, scale: int = DEFAULT_SCALE) -> Iterator[model.Inspector]:
    """*total* inspectors spread over the departments (a few experts, suspended, left, conflicted).

    ``capacity`` (groups per task) is 30 (a few 15) for the sample's 3,000 targets and 120 inspectors,
    and grows with the number of targets per inspector, so that the sample's draws stay feasible at
    any scale (a big city's inspector joins more groups per task).
    """
    rng = random.Random(f"sunshine-demo/{seed}/inspectors")
    factor = max(1, -(-scale * 120 // (DEFAULT_SCALE * total)))
    shares = _INSPECTOR_SHARE
    whole = sum(shares.values())
    counts = {d: max(4, total * s // whole) for d, s in shares.items()}
    short = total - sum(counts.values())
    order = sorted(shares, key=lambda d: (-shares[d], _DEPT_ORDER[d]))
    k = 0
    while short > 0:  # hand out what integer division left over, biggest departments first
        counts[order[k % len(order)]] += 1
        short -= 1
        k += 1
    conflicted = max(4, total // 30)
    every = max(1, total // conflicted)
    serial = 0
    for d_index, (dept, _, _, prefix, quals, expertise) in enumerate(DEPARTMENTS):
        n = counts[dept]
        experts = max(1, n // 12) if dept in _EXPERT_DEPTS else 0
        third = 1 if dept in _THIRD_PARTY_DEPTS and n >= 6 else 0
        width = max(3, len(str(n)))
        for j in range(n):
            serial += 1
            if j < n - experts - third:
                ptype = PersonType.OFFICER
            elif j < n - third:
                ptype = PersonType.EXPERT
            else:
                ptype = PersonType.THIRD_PARTY
            name = _SURNAMES[rng.randrange(len(_SURNAMES))] + "".join(
                _GIVEN[rng.randrange(len(_GIVEN))] for _ in range(1 + (rng.random() < 0.6))
            )
            status = InspectorStatus.ACTIVE
            if j >= 3:
                r = rng.random()
                status = InspectorStatus.SUSPENDED if r < 0.03 else InspectorStatus.LEFT if r < 0.07 else status
            if ptype is PersonType.OFFICER:
                cert = f"3799{d_index + 1:02d}{j + 1:05d}"
                q = {quals[j % len(quals)]}
                for extra in range(rng.randrange(3)):
                    q.add(quals[rng.randrange(len(quals))])
                if j >= 3 and rng.random() < 0.05:
                    valid: date | None = date(2025, 6, 30) if rng.random() < 0.5 else date(2026, 3, 31)
                else:
                    valid = date(2026 + rng.randrange(4), 12, 31)
            else:
                cert, valid = "", None
                q = set()
            exp = {expertise[rng.randrange(len(expertise))] for _ in range(rng.randrange(3))}
            conflicts: frozenset[str] = frozenset()
            if ptype is PersonType.OFFICER and serial % every == every // 2 and conflict_pool:
                conflicts = frozenset(conflict_pool[rng.randrange(len(conflict_pool))] for _ in range(1 + rng.randrange(2)))
            capacity = (15 if rng.random() < 0.1 else 30) * factor
            yield model.Inspector(
                id=f"{prefix}-{j + 1:0{width}d}",
                department=dept,
                name=name,
                person_type=ptype,
                certificate_no=cert,
                certificate_valid_until=valid,
                qualifications=frozenset(q),
                expertise=frozenset(exp),
                status=status,
                conflicts=conflicts,
                capacity=capacity,
            )


# --------------------------------------------------------------------------- options, dataset, files


@dataclass(frozen=True, slots=True)
class Options:
    scale: int = DEFAULT_SCALE  # number of targets
    seed: int = DEFAULT_SEED
    tasks: int | None = None  # default: max(23, scale // 500)
    inspectors: int | None = None  # default: max(120, scale // 250)

    def task_count(self) -> int:
        return self.tasks if self.tasks is not None else max(CATALOGUE_TASKS, self.scale // 500)

    def inspector_count(self) -> int:
        return self.inspectors if self.inspectors is not None else max(120, self.scale // 250)

    def check(self) -> None:
        """Raise ``ValueError`` with an "expected X, got Y" message for unusable options."""
        if self.scale < MIN_SCALE:
            raise ValueError(f"--scale: expected at least {MIN_SCALE} targets, got {self.scale}")
        if self.task_count() < CATALOGUE_TASKS:
            raise ValueError(f"--tasks: expected at least {CATALOGUE_TASKS} (the sample's catalogue), got {self.task_count()}")
        if self.inspector_count() < 60:
            raise ValueError(f"--inspectors: expected at least 60, got {self.inspector_count()}")


_CONFLICT_POOL_SIZE = 2000


def _conflict_pool(targets: Sequence[model.Target]) -> list[str]:
    return [t.code for t in targets if t.status is RegistrationStatus.ACTIVE]


def generate(opts: Options = Options()) -> model.Dataset:
    """The whole sample in memory (for tests and small scales; :func:`write` streams)."""
    opts.check()
    items = item_list()
    targets = tuple(iter_targets(opts.scale, opts.seed))
    pool = _conflict_pool(targets[:_CONFLICT_POOL_SIZE])
    inspectors = tuple(iter_inspectors(opts.inspector_count(), opts.seed, pool, scale=opts.scale))
    return model.Dataset(jurisdiction(), items, targets, inspectors, plans(items, opts.task_count()), ())


@dataclass(frozen=True, slots=True)
class Summary:
    targets: int
    inspectors: int
    items: int
    tasks: int
    kept: tuple[str, ...]  # preserved entries (ledger/, demo-keys/) of a replaced directory
    dataset: model.Dataset | None = None  # what the files hold, with ``write(..., keep_dataset=True)``


_HEADER = "# 示例数据（虚构）: generated by `sunshine demo-data`; do not edit by hand, regenerate instead.\n"


def write(out: str, opts: Options = Options(), *, force: bool = False, keep_dataset: bool = False) -> Summary:
    """Write the sample directory *out* atomically (``<out>.tmp``, then rename).

    Raises ``FileExistsError`` when *out* is a non-empty directory and *force* is false. With
    *keep_dataset*, the summary also holds the dataset the files hold (what ``loading.load_dataset``
    would read back, without parsing a million rows again); otherwise targets are only streamed.
    """
    opts.check()
    items = item_list()
    plan_list = plans(items, opts.task_count())
    kept = tuple(n for n in writing.PRESERVED_ENTRIES if os.path.exists(os.path.join(out, n))) if force else ()

    def fill(tmp: str) -> Summary:
        writing.write_text(os.path.join(tmp, "README.md"), readme(opts))
        writing.write_text(
            os.path.join(tmp, "jurisdiction.yaml"), writing.dump_yaml(writing.jurisdiction_doc(jurisdiction()), header=_HEADER)
        )
        writing.write_text(os.path.join(tmp, "items.yaml"), writing.dump_yaml(writing.items_doc(items), header=_HEADER))
        os.makedirs(os.path.join(tmp, "plans"))
        for p in plan_list:
            writing.write_text(
                os.path.join(tmp, "plans", f"{p.year}.yaml"), writing.dump_yaml(writing.plan_doc(p), header=_HEADER)
            )
        pool: list[str] = []
        targets: list[model.Target] = []
        inspectors: list[model.Inspector] = []

        def rows() -> Iterator[tuple[str, ...]]:
            for i, t in enumerate(iter_targets(opts.scale, opts.seed)):
                if i < _CONFLICT_POOL_SIZE and t.status is RegistrationStatus.ACTIVE:
                    pool.append(t.code)
                if keep_dataset:
                    targets.append(t)
                yield writing.target_row(t)

        def inspector_rows() -> Iterator[tuple[str, ...]]:
            for i in iter_inspectors(opts.inspector_count(), opts.seed, pool, scale=opts.scale):
                if keep_dataset:
                    inspectors.append(i)
                yield writing.inspector_row(i)

        n_targets = writing.write_csv(os.path.join(tmp, "targets.csv"), writing.TARGET_COLUMNS, rows())
        n_inspectors = writing.write_csv(os.path.join(tmp, "inspectors.csv"), writing.INSPECTOR_COLUMNS, inspector_rows())
        dataset = (
            model.Dataset(jurisdiction(), items, tuple(targets), tuple(inspectors), plan_list, ()) if keep_dataset else None
        )
        return Summary(n_targets, n_inspectors, len(items.current.items), sum(len(p.current.tasks) for p in plan_list), kept,
                       dataset)

    return writing.write_directory_atomically(out, fill, force=force)


def readme(opts: Options) -> str:
    cmd = f"sunshine demo-data --scale {opts.scale} --out data"
    if opts.seed != DEFAULT_SEED:
        cmd += f" --seed {opts.seed}"
    if opts.tasks is not None:
        cmd += f" --tasks {opts.tasks}"
    if opts.inspectors is not None:
        cmd += f" --inspectors {opts.inspectors}"
    districts = "、".join(f"{name}（{code}）" for code, name, _ in DIVISIONS)
    return f"""# 示例数据 · Sample data (fictional)

**本目录中的全部数据均为虚构的示例数据**，由 `sunshine demo-data` 确定性生成，用于演示和测试。
“示例市”、其行政区划代码、各部门、企业和个体工商户名称、统一社会信用代码、执法人员姓名和执法证号
均为虚构，与任何真实的地区、机关、企业或个人无关。

**Everything in this directory is fictional sample data**, generated deterministically by
`sunshine demo-data`. The city 示例市, its division codes, departments, enterprise names, credit codes,
inspector names and certificate numbers are invented and refer to no real place, authority, business or
person. `jurisdiction.yaml` says `sample: true`, so every page of the portal carries a sample-data banner.

What the generator does, and how to import real exports instead: [docs/import.md](../docs/import.md).
The file format: [docs/data-format.md](../docs/data-format.md).

Regenerate (byte-identical output, the ledger included; only the encrypted `demo-keys/` files differ):

```sh
{cmd} --force
```

## What is in it

| file | content |
|---|---|
| `jurisdiction.yaml` | 示例市 (fictional division code {DIVISION_CODE}; districts {districts}), {len(DEPARTMENTS)} departments of the joint meeting, office: 市场监管局 |
| `items.yaml` | 随机抽查事项清单, version 1 (2025-01-15, {len(_ITEMS_V1)} items) and version 2 (2026-01-20, {len(_ITEMS_V1) + len(_ITEMS_V2_ADDED)} items) |
| `targets.csv` | {opts.scale} targets: enterprises, 个体工商户, 农民专业合作社 and construction projects |
| `inspectors.csv` | {opts.inspector_count()} inspectors: certified officers, experts, third-party staff |
| `plans/2025.yaml` | the 2025 plan, version 1 and the adjusted version 2 |
| `plans/2026.yaml` | the 2026 plan |

## Deliberate irregularities

Real directories contain flawed records; the sample keeps a few on purpose, so that `sunshine validate`
shows what its warnings look like:

- two USCCs carry a wrong GB 32100 check character (a warning, as for some real early codes);
- a few 个体工商户 still carry a legacy 15-digit registration number (valid GB 12405 check digit);
- some targets are deregistered, revoked or moved out, some are on the abnormal list;
- some inspectors are suspended or have left, a few certificates have expired, a few declared conflicts (回避).

## Ledger and results

`ledger/` is the signed draw ledger, made by running the real draw ceremony for every task
(`sunshine.demo_ledger`; DEMO keys in `demo-keys/`, passphrase in its README). `results/<year>.csv` hold
the inspection results of the targets actually drawn (after replacements), made by
`sunshine.demo.make_results`: about 2% are published after the 20-working-day deadline and about 1.5%
are corrected, on purpose, so that `sunshine validate` and `sunshine verify` show what such findings
look like. `sunshine demo-data --no-ledger` writes neither.
"""


# --------------------------------------------------------------------------- results


_REASONS = (
    "检查结果录入有误，经复核予以更正",
    "检查项目结论录入错误，依申请复核后更正",
    "整改情况复查核实后更正原公示结论",
)
_UNCOOPERATIVE_NOTE = "检查对象拒绝、阻碍检查，已依法处理"
_UNREACHABLE_NOTE = "经实地核查，通过登记的住所（经营场所）无法联系"
_CORRECTED_SHARE = 0.015  # of the results get a correction (version 2)


def _target_outcome(rng: random.Random, t: model.Target) -> tuple[tuple[ResultCode, ...], tuple[PendingSubCode, ...], str] | None:
    """A non-substantive outcome for the whole target (淄博 第十八条), or None for a real check."""
    by_status = {
        RegistrationStatus.DEREGISTERED: ResultCode.DEREGISTERED,
        RegistrationStatus.REVOKED: ResultCode.REVOKED,
        RegistrationStatus.CANCELLED: ResultCode.CANCELLED,
        RegistrationStatus.MOVED_OUT: ResultCode.MOVED_OUT,
    }
    if t.status in by_status:
        return (by_status[t.status],), (), ""
    r = rng.random()
    if r < 0.035:
        return (ResultCode.NO_ACTIVITY,), (), ""
    if r < 0.06:
        return (ResultCode.CLOSED,), (), ""
    if r < 0.075:
        return (ResultCode.ISSUE_PENDING,), (PendingSubCode.UNREACHABLE,), _UNREACHABLE_NOTE
    if r < 0.08:
        return (ResultCode.UNCOOPERATIVE,), (), _UNCOOPERATIVE_NOTE
    return None


def _item_result(rng: random.Random, item: model.Item) -> model.ItemResult:
    r = rng.random()
    if r < 0.84:
        return model.ItemResult(item.id, (ResultCode.NO_ISSUE,))
    if r < 0.92:
        return model.ItemResult(item.id, (ResultCode.ISSUE_CORRECTED,), note="现场责令改正，已整改到位")
    if r < 0.98:
        if item.id == "AMR-02":
            sub = (PendingSubCode.NOT_PUBLICISED,) if rng.random() < 0.7 else (PendingSubCode.FALSE_PUBLICITY,)
        else:
            sub = (PendingSubCode.DEPT_VIOLATION,)
        return model.ItemResult(item.id, (ResultCode.ISSUE_PENDING,), sub, note="已移交后续处理")
    return model.ItemResult(item.id, (ResultCode.OTHER,), note="已责令限期提交相关材料")


def make_results(
    dataset: model.Dataset,
    selections: Mapping[str, Sequence[str]],
    seed: int,
    *,
    until: date | None = None,
) -> list[model.Result]:
    """Inspection results for drawn *selections* (task id → selected target codes).

    Each department of a task enters and publishes its own result for its items that apply to the
    target's kind (谁检查、谁录入、谁公开). About 2% of results are published late (after the
    configured number of working days), about 1.5% — and at least two when there are two — are
    corrected by a version 2 approved by the department head with a reason. Deregistered,
    unreachable, closed or uncooperative targets get non-substantive codes. Results published
    after *until* (the tasks still under way) are left out. Deterministic in *seed*.
    """
    from .errors import CalendarError
    from .workdays import add_workdays  # the working-day calendar (chinese-calendar)

    beyond = date(9999, 12, 31)  # a date past the known calendar: such results are after *until*
    memo: dict[tuple[date, int], date] = {}  # add_workdays is pure; results repeat the same few days

    def wd(day: date, n: int) -> date:
        if day >= beyond:
            return beyond
        got = memo.get((day, n))
        if got is not None:
            return got
        try:
            got = memo[(day, n)] = add_workdays(day, n)
        except CalendarError:
            if until is None:
                raise
            return beyond
        return got

    settings = dataset.jurisdiction.settings
    publish_days = settings.publish_within_workdays
    entry_days = settings.entry_within_workdays or 3
    index = dataset.target_index()
    results: list[model.Result] = []
    for task_id in sorted(selections):
        try:
            task = dataset.task(task_id)
        except KeyError:
            raise ValueError(f"selections: expected task ids of the plans, got {task_id!r}") from None
        unknown = [c for c in selections[task_id] if c not in index]
        if unknown:
            raise ValueError(f"selections[{task_id!r}]: expected codes of the target directory, got {unknown[:3]!r}")
        version = dataset.items.in_force(task.draw_date) or dataset.items.current
        items = [version.item(i) for i in task.items]
        window = (task.end - task.start).days
        for code in selections[task_id]:
            target = index[code]
            rng = random.Random(f"sunshine-demo/{seed}/result/{task_id}/{code}")
            outcome = _target_outcome(rng, target)
            end = task.start + timedelta(days=rng.randrange(window + 1))
            for dept in task.departments:
                mine = [it for it in items if dept in it.subjects and target.kind in it.target_kinds]
                if not mine:
                    continue
                if outcome is None:
                    irs = tuple(_item_result(rng, it) for it in mine)
                else:
                    codes, subs, note = outcome
                    irs = tuple(model.ItemResult(it.id, codes, subs, note) for it in mine)
                entered = wd(end, rng.randrange(entry_days + 1))
                published = wd(end, max(rng.randrange(1, publish_days + 1), 1))
                published = max(published, entered)
                results.append(
                    model.Result(
                        task=task_id,
                        target=code,
                        department=dept,
                        items=irs,
                        inspection_end=end,
                        entered=entered,
                        published=published,
                        approver_role=ApproverRole.HEAD if rng.random() < 0.15 else ApproverRole.DEPUTY_HEAD,
                    )
                )
    if not results:
        return results

    pick = random.Random(f"sunshine-demo/{seed}/results")
    n = len(results)
    late = pick.sample(range(n), max(1, round(n * 0.02)))
    for i in late:  # published after the deadline: the rules check flags these
        r = results[i]
        published = wd(r.inspection_end, publish_days + 1 + pick.randrange(8))
        results[i] = replace(r, published=published)
    corrections: list[model.Result] = []
    for i in sorted(pick.sample(range(n), min(n, max(2, round(n * _CORRECTED_SHARE))))):
        r = results[i]
        fixed = tuple(_corrected(ir) for ir in r.items)
        entered = wd(r.published, 5 + pick.randrange(20))
        corrections.append(
            replace(
                r,
                items=fixed,
                entered=entered,
                published=wd(entered, 1 + pick.randrange(3)),
                approver_role=ApproverRole.HEAD,
                version=2,
                correction_reason=_REASONS[pick.randrange(len(_REASONS))],
            )
        )
    merged = sorted(results + corrections, key=lambda r: (r.task, r.target, r.department, r.version))
    if until is not None:
        merged = [r for r in merged if r.published <= until]
    return merged


# Joint tasks (several departments, each publishing its own result per target) keep a smaller share of
# their stand-in selection than single-department ones: share / d**_JOINT_THINNING for d results per
# selected target on average. Calibrated on issue #5's province shape (1M targets, 2,000 tasks:
# 200,000 results ≈ 150,000 inspected targets, i.e. most results come from single-department checks).
_JOINT_THINNING = 3


def thin_selections(
    dataset: model.Dataset,
    selections: Mapping[str, Sequence[str]],
    results: int,
    *,
    seed: int = DEFAULT_SEED,
    until: date | None = None,
) -> dict[str, list[str]]:
    """A seeded subset of every task's selection so that :func:`make_results` gives about *results*.

    For the stand-in selections of ``demo-data --no-ledger --results R``. A selected target gets one
    result per task department with an item that applies to the target's kind: *d*, averaged over the
    task's selection, is the task's results per target. A task keeps ``ceil(share × len / d³)`` of its
    selection (at least one when it had any, at most all of it), so that joint tasks, which make *d*
    results per inspected target, weigh less than single-department ones and the results spread over
    many targets (issue #5's shape: 200,000 results ≈ 150,000 inspected targets at a million targets).
    The kept targets are a random subset (seeded with *seed* and the task id), in their selection
    order, so every stratum keeps its proportion on average; a subset of a valid selection stays in
    the task's pool and under the annual cap. *share* is solved so that the expected number of
    results — counting only those published by *until* (the tasks still under way) and the ~1.5%
    corrections — is about *results*.
    """
    tasks = {t.id: t for t in dataset.tasks()}
    kinds = {t.code: t.kind for t in dataset.targets} if selections else {}
    publish_days = dataset.jurisdiction.settings.publish_within_workdays
    memo: dict[tuple[date, int], bool] = {}
    # per task: (selection length, results per selected target d, share of them published by *until*)
    shape: dict[str, tuple[int, float, float]] = {}
    for tid, codes in selections.items():
        task = tasks.get(tid)
        if task is None:
            raise ValueError(f"selections: expected task ids of the plans, got {tid!r}")
        version = dataset.items.in_force(task.draw_date) or dataset.items.current
        items = [version.item(i) for i in task.items]
        per_kind: dict[Any, int] = {}
        made = 0
        for code in codes:
            kind = kinds.get(code)
            if kind is None:
                raise ValueError(f"selections[{tid!r}]: expected codes of the target directory, got {code!r}")
            n = per_kind.get(kind)
            if n is None:
                n = per_kind[kind] = sum(
                    1 for d in task.departments if any(d in it.subjects and kind in it.target_kinds for it in items)
                )
            made += n
        d = made / len(codes) if codes else 0.0
        shape[tid] = (len(codes), d, _published_share(task, publish_days, until, memo))

    def kept(share: float, n: int, d: float) -> int:
        if not n:
            return 0
        return min(n, max(1, math.ceil(n * share / max(d, 1.0) ** _JOINT_THINNING)))

    def expected(share: float) -> float:
        return sum(kept(share, n, d) * d * p for n, d, p in shape.values()) * (1 + _CORRECTED_SHARE)

    if not results:
        counts = {tid: 0 for tid in shape}
    else:
        lo, hi = 0.0, 1.0
        while expected(hi) < results and hi < 2.0**40:  # share / d³ ≥ 1 keeps everything: stop there
            lo, hi = hi, hi * 2
        for _ in range(60):  # bisection: expected() is monotonic in the share
            mid = (lo + hi) / 2
            if expected(mid) < results:
                lo = mid
            else:
                hi = mid
        share = hi if abs(expected(hi) - results) <= abs(expected(lo) - results) else lo
        counts = {tid: kept(share, n, d) for tid, (n, d, _) in shape.items()}
    out: dict[str, list[str]] = {}
    for tid, codes in selections.items():
        k = counts[tid]
        if k >= len(codes):
            out[tid] = list(codes)
            continue
        rng = random.Random(f"sunshine-demo/{seed}/thin/{tid}")
        out[tid] = [codes[i] for i in sorted(rng.sample(range(len(codes)), k))]
    return out


def _published_share(task: model.Task, publish_days: int, until: date | None, memo: dict[tuple[date, int], bool]) -> float:
    """The share of a task's results that :func:`make_results` publishes by *until* (late ones aside).

    There a result's inspection ends on a day of the task's window (uniformly) and is published
    1 … *publish_days* working days later (uniformly). *memo* keeps (day, n) → published by *until*."""
    from .errors import CalendarError
    from .workdays import add_workdays

    if until is None:
        return 1.0

    def published_by(day: date, n: int) -> bool:
        got = memo.get((day, n))
        if got is None:
            try:
                got = add_workdays(day, n) <= until
            except CalendarError:  # past the known calendar: make_results leaves such results out
                got = False
            memo[(day, n)] = got
        return got

    if published_by(task.end, publish_days):
        return 1.0
    window = (task.end - task.start).days
    hits = 0
    for k in range(window + 1):
        end = task.start + timedelta(days=k)
        if end >= until:
            break
        hits += sum(1 for n in range(1, publish_days + 1) if published_by(end, n))
    return hits / ((window + 1) * publish_days)


def _corrected(ir: model.ItemResult) -> model.ItemResult:
    if ir.codes == (ResultCode.NO_ISSUE,):
        return model.ItemResult(ir.item, (ResultCode.ISSUE_CORRECTED,), note="复核发现问题，已责令改正")
    if ResultCode.ISSUE_PENDING in ir.codes and PendingSubCode.UNREACHABLE not in ir.sub_codes:
        return model.ItemResult(ir.item, (ResultCode.ISSUE_CORRECTED,), note="原录入有误，问题已整改到位")
    if ir.codes == (ResultCode.ISSUE_CORRECTED,):
        return model.ItemResult(ir.item, (ResultCode.NO_ISSUE,))
    return model.ItemResult(ir.item, ir.codes, ir.sub_codes, (ir.note + "（更正说明：补充检查说明）").lstrip())


def write_results(out: str, dataset: model.Dataset, results: Sequence[model.Result]) -> list[str]:
    """Write ``results/<year>.csv`` files (one per task year) into the data directory *out*.

    Every file is replaced atomically; returns the relative paths written.
    """
    years = {t.id: t.year for t in dataset.tasks()}
    by_year: dict[int, list[model.Result]] = {}
    for r in results:
        by_year.setdefault(years[r.task], []).append(r)
    os.makedirs(os.path.join(out, "results"), exist_ok=True)
    written = []
    for year in sorted(by_year):
        path = os.path.join(out, "results", f"{year}.csv")
        rows = [row for r in by_year[year] for row in writing.result_rows(r)]
        writing.replace_file_atomically(path, lambda tmp: writing.write_csv(tmp, writing.RESULT_COLUMNS, rows))
        written.append(f"results/{year}.csv")
    return written
