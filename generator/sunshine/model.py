"""The data model: frozen, typed records for one jurisdiction's 双随机、一公开 data.

Enumerations are :mod:`sunshine.vocabulary` members (stable key + Chinese label). Ratios are
:class:`fractions.Fraction` (never floats), dates are :class:`datetime.date`. Records are built by
:mod:`sunshine.loading` from the files under ``data/`` (format: ``docs/data-format.md``); nothing
here does I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

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

# --------------------------------------------------------------------------- jurisdiction


@dataclass(frozen=True, slots=True)
class Department:
    """A member department of the joint meeting (联席会议成员单位)."""

    id: str  # ASCII slug, e.g. "amr" (市场监管局); stable, used in URLs and the ledger
    name: str  # full Chinese name, e.g. "示例市市场监督管理局"
    short_name: str  # e.g. "市场监管局"


@dataclass(frozen=True, slots=True)
class Settings:
    """Rule parameters, with the seed documents' defaults."""

    publish_within_workdays: int = 20  # 淄博 第十七条(四); 玉林 三(六)
    entry_within_workdays: int | None = None  # 淄川 附件2: 3
    max_checks_per_target_per_year: int = 2  # 淄博 第八条
    plan_deadline: str = "03-31"  # MM-DD by which the annual plan is published (环翠 二(四))
    joint_share_target: Fraction = Fraction(1, 10)  # 忻州 二(六): joint checks >= 10%
    credit_use_target: Fraction = Fraction(3, 5)  # 忻州 二(七): credit classes used in >= 60%
    min_officers_per_group: int = 2  # 行政处罚法 第四十二条


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """Government-site footer fields shown on every page (all optional)."""

    host: str = ""  # 主办单位
    organiser: str = ""  # 承办单位
    address: str = ""
    phone: str = ""
    icp: str = ""  # ICP备案号
    police_record: str = ""  # 公安机关备案号
    website_code: str = ""  # 网站标识码


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    id: str  # ASCII slug
    name: str  # e.g. "示例市"
    division_code: str  # 6-digit 行政区划代码
    origin: str  # ledger origin line (ASCII), e.g. "sunshine.example/shiyi-shi"
    office: str  # department id of the joint-meeting office (联席会议办公室)
    departments: tuple[Department, ...]
    sample: bool = False  # sample data: every page shows a banner
    settings: Settings = field(default_factory=Settings)
    site: SiteInfo = field(default_factory=SiteInfo)

    def department(self, dept_id: str) -> Department:
        for d in self.departments:
            if d.id == dept_id:
                return d
        raise KeyError(dept_id)


# --------------------------------------------------------------------------- item list


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of the 随机抽查事项清单."""

    id: str  # stable, e.g. "AMR-01"
    department: str  # department whose list holds the item
    name: str  # 抽查事项
    item_class: ItemClass  # 重点 / 一般
    subjects: tuple[str, ...]  # 抽查主体: department ids (first = the list holder)
    target_kinds: tuple[TargetKind, ...]  # 抽查对象
    content: str  # 抽查内容
    legal_basis: str  # 抽查依据
    methods: tuple[Method, ...]  # 抽查方式
    ratio_cap: Fraction | None  # None for 重点 items (玉林 三(二)); required for 一般
    frequency: str = ""  # e.g. "每年1次"


@dataclass(frozen=True, slots=True)
class ItemListVersion:
    version: int  # 1, 2, …
    published: date
    note: str
    items: tuple[Item, ...]

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)


@dataclass(frozen=True, slots=True)
class ItemList:
    versions: tuple[ItemListVersion, ...]  # ascending version numbers

    @property
    def current(self) -> ItemListVersion:
        return self.versions[-1]

    def in_force(self, on: date) -> ItemListVersion | None:
        """The latest version published on or before *on*."""
        found = None
        for v in self.versions:
            if v.published <= on:
                found = v
        return found


# --------------------------------------------------------------------------- directories


@dataclass(frozen=True, slots=True)
class Target:
    """A row of the 检查对象名录库."""

    code: str  # 18-char USCC, or 15-digit legacy registration number, or "P-…" opaque id
    name: str
    kind: TargetKind
    division: str  # 6-digit 行政区划代码
    industries: tuple[str, ...]  # GB/T 4754 codes, e.g. ("F5211",)
    status: RegistrationStatus
    flags: frozenset[TargetFlag]
    credit_class: CreditClass | None  # internal; never published per enterprise
    established: date | None = None


@dataclass(frozen=True, slots=True)
class Inspector:
    """A row of the 执法检查人员名录库. Personal data stays internal (published: id + department only)."""

    id: str  # pseudonymous stable id, e.g. "AMR-007"
    department: str
    name: str  # internal
    person_type: PersonType
    certificate_no: str  # 执法证号 ("" for experts / third parties)
    certificate_valid_until: date | None
    qualifications: frozenset[str]  # e.g. {"food", "special_equipment"}
    expertise: frozenset[str]
    status: InspectorStatus
    conflicts: frozenset[str]  # target codes with a declared conflict of interest (回避)
    capacity: int = 10  # max groups per task

    @property
    def certified_officer(self) -> bool:
        return self.person_type is PersonType.OFFICER and bool(self.certificate_no)


# --------------------------------------------------------------------------- plans and tasks


@dataclass(frozen=True, slots=True)
class Scope:
    """Which directory rows a task may draw from; empty tuples mean "any"."""

    kinds: tuple[TargetKind, ...] = ()
    divisions: tuple[str, ...] = ()  # prefixes of the 6-digit division code
    industries: tuple[str, ...] = ()  # prefixes of industry codes
    statuses: tuple[RegistrationStatus, ...] = (RegistrationStatus.ACTIVE,)

    def matches(self, t: Target) -> bool:
        return (
            (not self.kinds or t.kind in self.kinds)
            and (not self.divisions or t.division.startswith(self.divisions))
            and (not self.industries or any(i.startswith(self.industries) for i in t.industries))
            and (not self.statuses or t.status in self.statuses)
        )


@dataclass(frozen=True, slots=True)
class Stratum:
    """A sampling stratum with its own ratio (淄博 第八条; 玉林 三(五)1).

    Membership: ``credit_classes`` and/or ``flags`` (any of); a stratum with neither is the
    remainder ("all others"). A stratum built on credit classes is *sealed*: membership is
    committed but not published per target.
    """

    id: str
    label: str
    ratio: Fraction
    credit_classes: tuple[CreditClass, ...] = ()
    flags: tuple[TargetFlag, ...] = ()
    minimum: int = 0

    @property
    def sealed(self) -> bool:
        return bool(self.credit_classes)

    @property
    def remainder(self) -> bool:
        return not self.credit_classes and not self.flags

    def sample_size(self, population: int) -> int:
        """``max(minimum, ceil(N·ratio))``, capped at N; exact integer arithmetic."""
        n = math.ceil(population * self.ratio)
        return min(population, max(self.minimum, n))


@dataclass(frozen=True, slots=True)
class TeamRules:
    min_officers: int = 2  # certified officers per group, experts never counted
    per_department: int = 1  # officers each participating department contributes
    experts: int = 0  # experts / third parties added on top
    qualifications: tuple[str, ...] = ()  # each group must hold all of these


@dataclass(frozen=True, slots=True)
class Task:
    """One 抽查任务 of an annual plan."""

    id: str  # ASCII, e.g. "2025-03"; stable, used in URLs and the ledger
    year: int
    name: str
    items: tuple[str, ...]  # item ids from the published item list
    lead: str  # 发起/牵头部门
    participants: tuple[str, ...]  # 参与/配合部门 (excluding the lead)
    scope: Scope
    strata: tuple[Stratum, ...]
    notice: NoticeMode
    team: TeamRules
    draw_date: date  # planned draw date
    start: date  # inspection window
    end: date
    description: str = ""

    @property
    def departments(self) -> tuple[str, ...]:
        return (self.lead, *self.participants)

    @property
    def joint(self) -> bool:
        return bool(self.participants)

    @property
    def uses_credit_classes(self) -> bool:
        return any(s.sealed for s in self.strata)


@dataclass(frozen=True, slots=True)
class PlanVersion:
    version: int
    filed: date  # 备案
    published: date
    note: str  # what changed (调整说明)
    tasks: tuple[Task, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """年度抽查计划 of one year; adjustments are new versions, old ones stay visible."""

    year: int
    title: str
    versions: tuple[PlanVersion, ...]

    @property
    def current(self) -> PlanVersion:
        return self.versions[-1]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ItemResult:
    item: str
    codes: tuple[ResultCode, ...]
    sub_codes: tuple[PendingSubCode, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Result:
    """检查结果 of one target in one task, entered and published by one department.

    ``version`` 1 is the original; a correction (更正) is a higher version with a reason,
    approved by the department head (淄博 第十九条). Old versions stay visible.
    """

    task: str
    target: str  # target code
    department: str  # who inspected, entered and published (谁检查、谁录入、谁公开)
    items: tuple[ItemResult, ...]
    inspection_end: date
    entered: date
    published: date
    approver_role: ApproverRole
    version: int = 1
    correction_reason: str = ""

    @property
    def codes(self) -> tuple[ResultCode, ...]:
        seen: dict[ResultCode, None] = {}
        for ir in self.items:
            for c in ir.codes:
                seen[c] = None
        return tuple(seen)


# --------------------------------------------------------------------------- the whole dataset


@dataclass(frozen=True, slots=True)
class Dataset:
    jurisdiction: Jurisdiction
    items: ItemList
    targets: tuple[Target, ...]
    inspectors: tuple[Inspector, ...]
    plans: tuple[Plan, ...]  # ascending years
    results: tuple[Result, ...]  # all versions, corrections included

    def tasks(self) -> tuple[Task, ...]:
        """The tasks of every plan's current version."""
        return tuple(t for p in self.plans for t in p.current.tasks)

    def task(self, task_id: str) -> Task:
        for t in self.tasks():
            if t.id == task_id:
                return t
        raise KeyError(task_id)

    def target_index(self) -> dict[str, Target]:
        return {t.code: t for t in self.targets}
