"""The rule of each credit category (seeds 003 and 004, DESIGN.md W5/W6).

`check_entry` takes what a learner typed and returns the fields the portal
derives (level, class, year); it raises DomainError with the reason a person
can act on. Evidence each category needs is listed in EVIDENCE.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cme_portal import punctuation
from cme_portal.accounts.models import Role, User
from cme_portal.accounts.validators import canonical_personnel_number
from cme_portal.errors import DomainError
from projects import numbers
from projects.models import Entry, Project, Session, SessionState
from projects.selectors import remote_filed_as_of

from .models import ActivityMode, Category, CreditLevel, CreditPolicy, EntryDeadline, Platform

# The six national first-level societies whose Class I credits count as
# "out-of-province provincial (national first-level society)" (seed 004), with their
# branches and committees (中华医学会心血管病学分会, 中华护理学会外科护理专业委员会, …).
NATIONAL_SOCIETIES = ["中华医学会", "中华预防医学会", "中华护理学会", "中华口腔医学会", "中国医院协会", "中国医师协会"]
_SOCIETY = re.compile("^(" + "|".join(NATIONAL_SOCIETIES) + r")(.{1,30}(分会|专业委员会|专委会|委员会|学组|分支机构))?$")


def national_society(issuer):
    """Whether ``issuer`` is one of the six societies or one of their branches or committees."""
    return bool(_SOCIETY.match(re.sub(r"\s+", "", issuer or "")))


# What each category must carry as evidence (the form asks for each).
EVIDENCE = {
    Category.DISTRICT_II: [gettext_lazy("学习平台学分证明截图")],
    Category.PROVINCIAL_I: [gettext_lazy("学分证明（打印件或截图）")],
    Category.PROVINCIAL_II: [gettext_lazy("学分证原件扫描件（含项目全称、编号、起止时间）")],
    Category.NATIONAL_I: [gettext_lazy("学分证原件扫描件（含项目全称、编号、起止时间）")],
    Category.OUT_OF_PROVINCE: [
        gettext_lazy("学分证"),
        gettext_lazy("会议通知"),
        gettext_lazy("国家 CME 项目学分查询结果截图"),
        gettext_lazy("培训缴费发票"),
        gettext_lazy("单位同意外出学习审批单（线上项目可不提供）"),
        gettext_lazy("线下项目：本人出行飞机（动车）票或单位报销单"),
    ],
    Category.COUNTERPART_SUPPORT: [gettext_lazy("派遣文件"), gettext_lazy("受援单位对派遣人的考核评价证明")],
    Category.RESIDENCY: [gettext_lazy("年度考核成绩（最后一年为结业考核合格证明）")],
    Category.ADVANCED_STUDY: [gettext_lazy("进修合格证")],
    Category.TCM_NATIONAL: [gettext_lazy("国家中医药管理局学分证明")],
    Category.TCM_PROVINCIAL: [gettext_lazy("省中医药管理局学分证明")],
}

# Categories a learner or unit admin may enter by hand (the others arrive by award or import).
ENTERABLE = list(EVIDENCE)
TCM_CATEGORIES = (Category.TCM_NATIONAL, Category.TCM_PROVINCIAL)

# Seed 004 rule 2: what the one merged PDF of an out-of-province credit holds, ticked by whoever enters it.
EVIDENCE_ITEMS = {
    "certificate": gettext_lazy("学分证"),
    "notice": gettext_lazy("会议通知（含项目编号、时间、地点、举办形式）"),
    "cme_query": gettext_lazy("国家 CME 项目学分查询结果截图"),
    "approval": gettext_lazy("单位同意外出学习审批单"),
    "invoice": gettext_lazy("培训缴费发票"),
    "travel": gettext_lazy("本人出行飞机（动车）票或单位报销单"),
}
FULL_YEAR = Decimal("25")


@dataclass
class Derived:
    level: str
    credit_class: str
    year: int
    activity_key: str


def _one_decimal(value):
    return value.quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def _refuse(message, code, field=None):
    raise DomainError(message, code=code, field=field)


def _check_national_rate(credits, hours, lecturer):
    """National Class I: 1 credit per 3 hours, lecturers 2 per hour (W6)."""
    limit = _one_decimal(hours * 2 if lecturer else hours / 3)
    if credits > limit:
        _refuse(
            _("国家级 I 类项目每 3 学时授 1 学分（授课教师每学时 2 分）：%(hours)s 学时最多 %(limit)s 学分。")
            % {"hours": hours.normalize(), "limit": limit.normalize()},
            "rate",
            "credits",
        )


def months_between(start, end):
    """Whole months of a stay, counting a started month of 15 days or more."""
    days = (end - start).days + 1
    return max(0, round(days / 30.4))


def check_entry(
    *,
    category,
    activity_number,
    issuer,
    credit_class,
    credits,
    hours,
    start_date,
    end_date,
    certificate_date=None,
    lecturer=False,
    entering_unit=None,
    residency_years=None,
    training_year=None,
    annual_assessment_passed=False,
    final_assessment_passed=False,
):
    """Apply ``category``'s rule; return Derived(level, class, year, activity key) or raise DomainError.

    ``entering_unit`` is the unit whose admin enters the credit for its learners (batch entry): the
    co-organiser of a remote-filed project is the one who may (seed 004).
    """
    activity_number = (activity_number or "").strip()
    key = numbers.canonical(activity_number) if activity_number else ""
    if end_date < start_date:
        _refuse(_("结束日期不能早于开始日期。"), "dates", "end_date")
    if credits <= 0 or credits > FULL_YEAR:
        _refuse(_("学分应大于 0，且不超过 25 分。"), "credits", "credits")

    if activity_number:
        if numbers.looks_national_without_mark(activity_number):
            _refuse(
                _("国家级项目编号请按学分证完整填写，不要省略（国），例如 %(number)s（国）。") % {"number": activity_number},
                "number_without_mark",
                "activity_number",
            )
        parsed = numbers.parse(activity_number)
        key = parsed.canonical
        held = (
            Session.objects.filter(project__number_key=key, state=SessionState.APPROVED)
            .select_related("project")
            .order_by("-end_date")
            .first()
        )
        if held is not None:
            raise DomainError(
                _("“%(name)s”在本平台举办，学分由举办单位提交学员名单、审核通过后自动授予，不需要个人录入。")
                % {"name": held.project.name},
                code="held_in_portal",
                field="activity_number",
                link=(held.project.get_absolute_url(), _("查看该项目的举办信息")),
            )
        remote = Project.objects.filter(number_key=key, entry=Entry.REMOTE_FILED).select_related("co_organiser_unit").first()
        if remote is not None and not _co_organiser_enters(remote, entering_unit):
            _refuse_remote_filed(remote)
    else:
        parsed = None
    national = parsed is not None and parsed.kind == numbers.NATIONAL
    year = start_date.year

    if category == Category.DISTRICT_II:
        expected = _one_decimal(hours / 6)
        if credit_class != "II":
            _refuse(_("区级学分为 II 类。"), "class", "credit_class")
        if credits != expected:
            _refuse(
                _("区级 II 类学分按 6 学时 = 1 学分计算：%(hours)s 学时应为 %(credits)s 学分。")
                % {"hours": hours.normalize(), "credits": expected.normalize()},
                "rate",
                "credits",
            )
        level = CreditLevel.DISTRICT
    elif category in (Category.PROVINCIAL_I, Category.PROVINCIAL_II):
        wanted = "I" if category == Category.PROVINCIAL_I else "II"
        if credit_class != wanted:
            _refuse(_("请选择 %(cls)s 类。") % {"cls": wanted}, "class", "credit_class")
        if national:
            _refuse(_("编号带（国）的是国家级项目，请选择“国家级 I 类项目”。"), "level", "category")
        if category == Category.PROVINCIAL_I:
            limit = hours if lecturer else hours / 6
            if credits > _one_decimal(limit):
                _refuse(
                    _("省级 I 类项目每 6 学时授 1 学分（授课教师每学时 1 分）：%(hours)s 学时最多 %(limit)s 学分。")
                    % {"hours": hours.normalize(), "limit": _one_decimal(limit).normalize()},
                    "rate",
                    "credits",
                )
        level = CreditLevel.PROVINCIAL
    elif category == Category.NATIONAL_I:
        if not national:
            _refuse(
                _("国家级 I 类项目须填写带（国）的国家级项目编号，例如 2021-03-05-129（国）。"), "not_national", "activity_number"
            )
        if credit_class != "I":
            _refuse(_("国家级项目学分为 I 类。"), "class", "credit_class")
        _check_national_rate(credits, hours, lecturer)
        level = CreditLevel.NATIONAL
    elif category == Category.OUT_OF_PROVINCE:
        if credit_class != "I":
            _refuse(_("赴外省学习只认 I 类学分。"), "class", "credit_class")
        if national:
            _check_national_rate(credits, hours, lecturer)
            level = CreditLevel.OUT_OF_PROVINCE_NATIONAL
        elif national_society(issuer):
            level = CreditLevel.OUT_OF_PROVINCE_SOCIETY
        else:
            _refuse(
                _("赴外省学习只认国家级 I 类项目（编号带（国）），或中华医学会等六家国家一级学（协）会授予的会级 I 类学分。"),
                "out_of_province",
                "activity_number",
            )
    elif category == Category.COUNTERPART_SUPPORT:
        level = CreditLevel.OTHER
    elif category == Category.RESIDENCY:
        check_residency(residency_years, training_year, annual_assessment_passed, final_assessment_passed)
        level = CreditLevel.OTHER
        # One credit per training year: the year is the activity (a second entry of it is a duplicate).
        key = key or f"RESIDENCY-{residency_years}Y-{training_year}"
    elif category == Category.ADVANCED_STUDY:
        if not certificate_date:
            _refuse(_("请填写进修合格证的取得日期：跨年进修以合格证取得的年度计。"), "certificate_date", "certificate_date")
        if certificate_date < end_date:
            _refuse(_("合格证日期不能早于进修结束日期。"), "certificate_date", "certificate_date")
        months = months_between(start_date, end_date)
        limit = min(FULL_YEAR, Decimal(5 * months))
        if credits > limit:
            _refuse(
                _("进修每月 5 学分：%(months)s 个月最多 %(limit)s 学分。") % {"months": months, "limit": limit.normalize()},
                "rate",
                "credits",
            )
        year = certificate_date.year
        level = CreditLevel.OTHER
    elif category == Category.TCM_NATIONAL:
        if credit_class != "I":
            _refuse(_("国家中医药管理局所授学分认定为 I 类。"), "class", "credit_class")
        level = CreditLevel.NATIONAL
    elif category == Category.TCM_PROVINCIAL:
        level = CreditLevel.PROVINCIAL
    else:
        _refuse(_("该类型的学分不能手工录入。"), "category", "category")
    return Derived(level=level, credit_class=credit_class, year=year, activity_key=key)


def check_residency(residency_years, training_year, annual_passed, final_passed):
    """Seed 003 (七、规培): three-year trainees are credited per year on the annual assessment, the last year only
    on passing the final (结业) assessment; one-year trainees on the annual assessment."""
    if residency_years not in (1, 3):
        _refuse(_("规培学分请选择规培年限：1 年或 3 年。"), "residency_years", "residency_years")
    if not training_year or not 1 <= training_year <= residency_years:
        _refuse(
            _("请填写本次授分的培训年度：规培 %(years)s 年的，为第 1 至第 %(years)s 年。") % {"years": residency_years},
            "training_year",
            "training_year",
        )
    if residency_years == 3 and training_year == 3:
        if not final_passed:
            _refuse(
                _("规培 3 年的最后一年，须以最后（结业）考核成绩合格才可授分：请在结业考核合格后录入，并上传结业考核合格证明。"),
                "final_assessment",
                "final_assessment_passed",
            )
    elif not annual_passed:
        _refuse(
            _("规培以每年的年度考核成绩作为授分凭证：第 %(year)s 年的年度考核合格后才可录入，并上传年度考核成绩。")
            % {"year": training_year},
            "annual_assessment",
            "annual_assessment_passed",
        )


def required_evidence(category, mode):
    """Seed 004 rule 2: the items an out-of-province credit's evidence must hold, by the activity's form.

    Online activities may omit the unit's approval form; offline ones add the travel tickets or a reimbursement slip.
    """
    if category != Category.OUT_OF_PROVINCE:
        return []
    items = ["certificate", "notice", "cme_query", "invoice"]
    if mode == ActivityMode.OFFLINE:
        items += ["approval", "travel"]
    return items


def check_evidence(category, mode, evidence_items):
    """Refuse an out-of-province credit without its form (线上/线下) or without an item its form requires."""
    if mode and mode not in ActivityMode.values:
        _refuse(_("举办形式为线上或线下。"), "mode", "mode")
    if category != Category.OUT_OF_PROVINCE:
        return
    if mode not in ActivityMode.values:
        _refuse(
            _("赴外省学习请选择举办形式（线上或线下）：线上项目可不提供单位外出学习审批单，线下项目还需出行票据或单位报销单。"),
            "mode",
            "mode",
        )
    ticked = set(evidence_items or ())
    missing = [str(EVIDENCE_ITEMS[item]) for item in required_evidence(category, mode) if item not in ticked]
    if missing:
        if mode == ActivityMode.OFFLINE:
            message = _("线下项目的证明材料还缺：%(items)s。请合并成一个 PDF 上传，并勾选所含材料。")
        else:
            message = _(
                "线上项目的证明材料还缺：%(items)s（单位外出学习审批单可不提供）。请合并成一个 PDF 上传，并勾选所含材料。"
            )
        _refuse(message % {"items": punctuation.mark("、").join(missing)}, "evidence_missing", "evidence_items")


def check_personnel_number(typed, on_profile):
    """Seed 004 rule 5: the 人员编号 printed on the certificate must be the learner's own (the profile's).

    Left blank (a certificate that prints none) it is not compared; typed, it must match, and the
    profile must hold one to match against. A mismatch is refused: the certificate is someone else's.
    """
    typed = canonical_personnel_number(typed)
    if not typed:
        return
    own = canonical_personnel_number(on_profile)
    if not own:
        _refuse(
            _("请先在“个人信息”中填写您的人员编号，再录入印有人员编号的学分证。"), "personnel_number_missing", "personnel_number"
        )
    if typed != own:
        _refuse(
            _("学分证上的人员编号 %(typed)s 与您个人信息中的人员编号不一致：学分证须为本人的（姓名、人员编号须与学分证一致）。")
            % {"typed": typed},
            "personnel_number_mismatch",
            "personnel_number",
        )


def enterable_categories(province):
    """The categories entered by hand in ``province``: without TCM where the province does not handle it."""
    if policy_for(province).handles_tcm:
        return list(ENTERABLE)
    return [category for category in ENTERABLE if category not in TCM_CATEGORIES]


def check_category_handled(province, category):
    """Seed 004 rule 3: a province that does not handle TCM credits refuses them (中医学分暂不通过本系统管理)."""
    if category in TCM_CATEGORIES and not policy_for(province).handles_tcm:
        _refuse(_("本省学分系统暂不管理中医学分：学习中医药项目所获学分不在本系统录入和审核。"), "tcm_not_handled", "category")


def _co_organiser_enters(project, unit):
    unit_node = project.co_organiser_unit
    return unit is not None and unit_node is not None and unit.path.startswith(unit_node.path)


def _refuse_remote_filed(project):
    """Seed 004: a remote-filed project is reported by its in-province co-organiser; say which, and how to reach it."""
    unit = project.co_organiser_unit
    name = unit.name if unit else (project.co_organiser or _("省内承办（协办）单位"))
    admins = []
    if unit is not None:
        admins = list(
            User.objects.filter(roles__role=Role.UNIT_ADMIN, roles__org=unit).order_by("name").values_list("name", flat=True)[:3]
        )
    contact = (
        _("请联系%(unit)s科教科（%(people)s）。") % {"unit": name, "people": punctuation.mark("、").join(admins)}
        if admins
        else _("请联系%(unit)s科教科。") % {"unit": name}
    )
    as_of = remote_filed_as_of()
    listed = _("（见异地备案项目名单，截止 %(date)s）") % {"date": as_of.isoformat()} if as_of else _("（见异地备案项目名单）")
    _refuse(
        _("“%(project)s”已在本省异地备案，学分由省内承办（协办）单位%(unit)s统一录入上报，个人不能录入。")
        % {"project": project.name, "unit": name}
        + listed
        + contact,
        "remote_filed",
        "activity_number",
    )


# --- the province's entry window (seed 003: 截止日期) and the platforms' feeds (seed 004 rule 4) -----------


def policy_for(province, today=None):
    """The province's policy, or the default one: the last five years, platforms' credits within 30 days."""
    today = today or date.today()
    policy = CreditPolicy.objects.filter(province=province).first() if province else None
    return policy or CreditPolicy(province=province, earliest_year=today.year - 4, platform_days=30)


def check_window(province, *, year, start_date, end_date, issuer, certificate_date=None, today=None):
    """Refuse what cannot be true or is out of the province's window: a future end date, a year before the
    earliest one accepted, a year whose entry deadline has passed, and a platform's credit (it arrives by feed)."""
    today = today or date.today()
    if end_date > today:
        _refuse(_("结束日期不能晚于今天：学分在活动结束、取得学分证后录入。"), "future", "end_date")
    if certificate_date and certificate_date > today:
        _refuse(_("证书日期不能晚于今天。"), "future", "certificate_date")
    policy = policy_for(province, today)
    if year < policy.earliest_year:
        _refuse(
            _("%(year)s 年度的学分已不再受理录入（本省受理 %(earliest)s 年度及以后的学分）。")
            % {"year": year, "earliest": policy.earliest_year},
            "too_old",
            "start_date",
        )
    deadline = EntryDeadline.objects.filter(province=province, year=year).first() if province else None
    if deadline is not None and today > deadline.deadline:
        _refuse(
            _("%(year)s 年度学分的录入已于 %(deadline)s 截止。") % {"year": year, "deadline": deadline.deadline.isoformat()},
            "deadline_passed",
            "start_date",
        )
    platform = platform_named(issuer)
    if platform is not None:
        _refuse(
            _("“%(platform)s”的学分经数据对接自动到账，不需要手工录入；如课程结束 %(days)s 天后仍未到账，请联系该平台。")
            % {"platform": platform.name, "days": policy.platform_days},
            "platform",
            "issuer",
        )


def platform_named(issuer):
    """The connected platform ``issuer`` names (by name or alias), or None."""
    text = re.sub(r"\s+", "", issuer or "")
    if not text:
        return None
    for platform in Platform.objects.filter(active=True):
        # The issuer names the platform: its full name, or a distinctive alias of three characters or more.
        if any(len(name) >= 3 and name in text for name in platform.names()):
            return platform
    return None


# --- the published catalogues (seed 003: 在所公布项目中可查的) ------------------------------------------

# Numbers of these categories are looked up in the province's lists; one not found is flagged for reviewers.
# (No list the province loads holds TCM numbers; an out-of-province national number is on the national list.)
CATALOGUE_CHECKED = {Category.NATIONAL_I, Category.PROVINCIAL_I, Category.PROVINCIAL_II}


@dataclass
class CatalogueCheck:
    found: bool
    not_found: bool  # a number the lists should hold but do not: 未在公布项目中查到 (a flag, never a refusal)
    mismatches: set  # of "name", "credits", "dates"


def _plain(text):
    return re.sub(r"[\s“”\"'「」（）()]", "", text or "")


def catalogue_check(entry):
    """Compare an entry (annotated by credits.selectors.entries) with the catalogue's row for its number."""
    name = getattr(entry, "catalogue_name", None)
    if name is None:
        national_elsewhere = entry.category == Category.OUT_OF_PROVINCE and entry.activity_key.endswith("(国)")
        checked = (entry.category in CATALOGUE_CHECKED or national_elsewhere) and bool(entry.activity_key)
        return CatalogueCheck(found=False, not_found=checked, mismatches=set())
    mismatches = set()
    if _plain(name) != _plain(entry.activity_name):
        mismatches.add("name")
    if entry.catalogue_credits is not None and entry.credits > entry.catalogue_credits:
        mismatches.add("credits")
    start, end = entry.catalogue_start, entry.catalogue_end
    if start and end and not (start <= entry.start_date and entry.end_date <= end):
        mismatches.add("dates")
    return CatalogueCheck(found=True, not_found=False, mismatches=mismatches)
