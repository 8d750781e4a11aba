"""Enumerations with stable keys and canonical Chinese labels.

Data files and the ledger store the *key* (ASCII, stable); pages show the *label*.
Every enumeration is a :class:`Vocab` subclass of :class:`enum.Enum` whose value is the key.
"""

from __future__ import annotations

from enum import Enum


class Vocab(str, Enum):
    """A stable ASCII key with a Chinese label (``.label``)."""

    label: str

    def __new__(cls, key: str, label: str) -> "Vocab":
        obj = str.__new__(cls, key)
        obj._value_ = key
        obj.label = label
        return obj

    @classmethod
    def keys(cls) -> list[str]:
        return [m.value for m in cls]

    @classmethod
    def parse(cls, key: str) -> "Vocab":
        """Return the member for *key*; raise ``ValueError`` listing the allowed keys."""
        try:
            return cls(key)
        except ValueError:
            raise ValueError(f"expected one of {', '.join(cls.keys())}, got {key!r}") from None

    def __str__(self) -> str:  # keys, not "Class.member", in messages and CSV
        return self.value


class ItemClass(Vocab):
    FOCUS = ("focus", "重点检查事项")
    GENERAL = ("general", "一般检查事项")


class TargetKind(Vocab):
    ENTERPRISE = ("enterprise", "企业")
    INDIVIDUAL = ("individual", "个体工商户")
    COOPERATIVE = ("cooperative", "农民专业合作社")
    PRODUCT = ("product", "产品")
    PROJECT = ("project", "工程项目")
    ACTIVITY = ("activity", "经营行为")


class RegistrationStatus(Vocab):
    ACTIVE = ("active", "存续（在营、开业、在册）")
    DEREGISTERED = ("deregistered", "注销")
    REVOKED = ("revoked", "吊销")
    CANCELLED = ("cancelled", "撤销")
    MOVED_OUT = ("moved_out", "迁出")


class TargetFlag(Vocab):
    ABNORMAL = ("abnormal", "列入经营异常名录")
    SERIOUS_ILLEGAL = ("serious_illegal", "列入严重违法失信名单")
    COMPLAINTS = ("complaints", "投诉举报较多")
    KEY_INDUSTRY = ("key_industry", "重点行业领域")
    NEW = ("new", "新设立")


class CreditClass(Vocab):
    """信用风险分类. Internal: drives per-class ratios, never published per enterprise."""

    A = ("A", "信用风险低（A类）")
    B = ("B", "信用风险一般（B类）")
    C = ("C", "信用风险较高（C类）")
    D = ("D", "信用风险高（D类）")


class PersonType(Vocab):
    OFFICER = ("officer", "执法检查人员")
    EXPERT = ("expert", "专家")
    THIRD_PARTY = ("third_party", "第三方机构人员")


class InspectorStatus(Vocab):
    ACTIVE = ("active", "在岗")
    SUSPENDED = ("suspended", "暂停执法")
    LEFT = ("left", "调离")


class Method(Vocab):
    ON_SITE = ("on_site", "实地核查")
    DOCUMENTS = ("documents", "书面检查")
    ONLINE = ("online", "网络监测")
    SAMPLING = ("sampling", "抽样检验")
    PROFESSIONAL = ("professional", "委托专业机构")


class NoticeMode(Vocab):
    NOTIFIED = ("notified", "告知")
    NO_NOTICE = ("no_notice", "不宜告知（检查后公开名单）")


class ResultCode(Vocab):
    """检查结果 codes (design-notes §2). A result may hold several codes."""

    NO_ISSUE = ("no_issue", "未发现问题")
    ISSUE_PENDING = ("issue_pending", "发现问题待后续处理")
    ISSUE_CORRECTED = ("issue_corrected", "发现问题已责令改正")
    NO_ACTIVITY = ("no_activity", "未发现开展本次抽查涉及的经营活动")
    CLOSED = ("closed", "已关闭停业或正在组织清算")
    UNCOOPERATIVE = ("uncooperative", "不配合检查情节严重")
    DEREGISTERED = ("deregistered", "注销")
    REVOKED = ("revoked", "被吊销")
    CANCELLED = ("cancelled", "被撤销")
    MOVED_OUT = ("moved_out", "迁出")
    OTHER = ("other", "其他")


class PendingSubCode(Vocab):
    """Sub-codes required with ``issue_pending``; ``dept_violation`` is labelled with the department."""

    NOT_PUBLICISED = ("not_publicised", "未按规定公示应当公示的信息")
    FALSE_PUBLICITY = ("false_publicity", "公示信息隐瞒真实情况、弄虚作假")
    UNREACHABLE = ("unreachable", "通过登记的住所（经营场所）无法联系")
    DEPT_VIOLATION = ("dept_violation", "违反{department}相关规定")


# Codes that may be recorded without a substantive check (淄博 第十八条): the target could
# not be reached, did not cooperate, or no longer exists.
NON_SUBSTANTIVE_CODES = frozenset(
    {
        ResultCode.NO_ACTIVITY,
        ResultCode.CLOSED,
        ResultCode.UNCOOPERATIVE,
        ResultCode.DEREGISTERED,
        ResultCode.REVOKED,
        ResultCode.CANCELLED,
        ResultCode.MOVED_OUT,
    }
)


class ReplacementReason(Vocab):
    """Closed list of reasons to replace a drawn inspector (淄博 第十三条)."""

    POST_CHANGE = ("post_change", "岗位调整")
    WORK_CONFLICT = ("work_conflict", "工作冲突")
    HEALTH = ("health", "健康状况")
    RECUSAL = ("recusal", "执法回避")


class TargetReplacementReason(Vocab):
    DEREGISTERED = ("deregistered", "已注销")
    REVOKED = ("revoked", "已吊销")
    MOVED_OUT = ("moved_out", "已迁出")
    NOT_IN_SCOPE = ("not_in_scope", "不属于抽查对象范围")


class ApproverRole(Vocab):
    DEPUTY_HEAD = ("deputy_head", "分管负责人")
    HEAD = ("head", "主要负责人")


class ExclusionReason(Vocab):
    """Why a target of the scope is left out of a draw's pool, fixed before the commitment."""

    ANNUAL_CAP = ("annual_cap", "本年度已被抽查两次（淄博 第八条）")
    NOT_ACTIVE = ("not_active", "非存续状态（注销、吊销、撤销、迁出）")
    OUT_OF_SCOPE = ("out_of_scope", "不属于本次抽查对象范围")
