"""Demo credits: learners with credits of every source and status, some compliant and some not.

Entries go through the services (rules, evidence, review), so queues,
timelines and the ledger are what real use would leave.
"""

import io
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from cme_portal.accounts.demo import resident_id
from cme_portal.accounts.models import (
    DocumentType,
    LearnerProfile,
    Organisation,
    Role,
    RoleAssignment,
    Sex,
    StaffCategory,
    Title,
    User,
)

from . import compliance, services
from .models import CREDIT_ENTRY_WORKFLOW, CreditEntry, CreditPolicy, CreditRecord, EarlyReviewRequest
from .platforms import import_platform_file

# (name, unit, staff category, (class I, class II) already on the ledger this year)
LEARNERS = [
    ("王芳", "浙江大学医学院附属第一医院", StaffCategory.SENIOR_TERTIARY, (8, 18)),
    ("赵磊", "浙江大学医学院附属第一医院", StaffCategory.HEALTH_TECHNICAL, (3, 6)),
    ("钱静", "浙江医院", StaffCategory.HEALTH_TECHNICAL, (7, 18)),
    ("冯强", "杭州市第一人民医院", StaffCategory.HEALTH_TECHNICAL, (0, 4)),
    ("陈晨", "西湖区转塘街道社区卫生服务中心", StaffCategory.HEALTH_TECHNICAL, (5, 20)),
    ("褚红", "宁波市第一医院", StaffCategory.HEALTH_TECHNICAL, (10, 20)),
    ("卫东", "宁波市第六医院", StaffCategory.HEALTH_TECHNICAL, (2, 9)),
    ("蒋丽", "温州医科大学附属第一医院", StaffCategory.SENIOR_TERTIARY, (7, 15)),
]


def evidence_pdf(text):
    from projects.demo import demo_pdf

    return SimpleUploadedFile("evidence.pdf", demo_pdf(text), "application/pdf")


def seed_learners():
    people = {}
    for index, (name, unit_name, category, _sums) in enumerate(LEARNERS, start=20):
        birth = date(1980 + index % 15, 1 + index % 12, 1 + index % 27)
        sex = Sex.FEMALE if index % 2 else Sex.MALE
        id_number = resident_id("330106", birth, index, sex)
        user = User.objects.filter(id_number=id_number).first()
        if user is None:
            user = User.objects.create_user(
                id_number, "Demo@2026", id_type=DocumentType.RESIDENT_ID, name=name, mobile=f"1390000{index:04d}"
            )
        unit = Organisation.objects.get(name=unit_name)
        LearnerProfile.objects.update_or_create(
            user=user,
            defaults={
                "unit": unit,
                "sex": sex,
                "birth_date": birth,
                "title": Title.INTERMEDIATE,
                "staff_category": category,
                "department": "心血管内科",
                "mailing_address": f"{unit_name}科教科转",
            },
        )
        RoleAssignment.objects.get_or_create(user=user, role=Role.LEARNER, defaults={"org": unit})
        people[name] = user
    return people


def seed_ledger(people, year):
    """Earlier records: project awards and own entries already approved, for the compliance mix."""
    for name, _unit, _category, (class_i, class_ii) in LEARNERS:
        person = people[name]
        for credit_class, amount, category in (("I", class_i, "provincial_i"), ("II", class_ii, "district_ii")):
            if amount:
                CreditRecord.objects.get_or_create(
                    learner=person,
                    activity_key=f"DEMO-{year}-{credit_class}-{person.pk}",
                    revision=0,
                    defaults=dict(
                        year=year,
                        credit_class=credit_class,
                        level="provincial" if credit_class == "I" else "district",
                        category=category,
                        credits=Decimal(amount),
                        hours=Decimal(amount) * 6,
                        source="own",
                        activity_number=f"DEMO-{year}-{credit_class}",
                        activity_name="往期学分（演示）",
                        issuer="浙江省医学会",
                        start_date=date(year, 3, 1),
                        end_date=date(year, 3, 2),
                    ),
                )
    # A national-project credit four years ago for one senior learner (the five-year rule).
    CreditRecord.objects.get_or_create(
        learner=people["王芳"],
        activity_key="2022-03-01-088(国)",
        revision=0,
        defaults=dict(
            year=year - 4,
            credit_class="I",
            level="national",
            category="national_i",
            credits=Decimal("10"),
            hours=Decimal("30"),
            source="own",
            activity_number="2022-03-01-088（国）",
            activity_name="心血管介入治疗进展",
            issuer="中华医学会",
            start_date=date(year - 4, 5, 1),
            end_date=date(year - 4, 5, 4),
        ),
    )


def seed_readme_learner(year):
    """刘洋 (the README's learner) holds part of the year's requirement and has an entry under review."""
    person = User.objects.get(mobile="13900000005")
    for credit_class, amount, level, category in (("I", 4, "provincial", "provincial_i"), ("II", 12, "district", "district_ii")):
        CreditRecord.objects.get_or_create(
            learner=person,
            activity_key=f"DEMO-{year}-{credit_class}-{person.pk}",
            revision=0,
            defaults=dict(
                year=year,
                credit_class=credit_class,
                level=level,
                category=category,
                credits=Decimal(amount),
                hours=Decimal(amount) * 6,
                source="own",
                activity_number=f"DEMO-{year}-{credit_class}",
                activity_name="往期学分（演示）",
                issuer="浙江省医学会",
                start_date=date(year, 3, 1),
                end_date=date(year, 3, 2),
            ),
        )


def seed_entries(people, year):
    """Entries in every review state, from each source."""
    if CreditEntry.objects.exists():
        return
    unit_admin = User.objects.get(roles__role=Role.UNIT_ADMIN, roles__org__name="浙江大学医学院附属第一医院")
    city_admin = User.objects.get(roles__role=Role.CITY_ADMIN, roles__org__name="杭州市")
    province_admin = User.objects.filter(roles__role=Role.PROVINCE_ADMIN).first()
    start = date(year, 4, 10)

    def enter(person, number, name, category="national_i", credit_class="I", credits="6", hours="18", issuer="中华医学会"):
        return services.enter_credit(
            person,
            evidence=[evidence_pdf(name)],
            category=category,
            activity_name=name,
            activity_number=number,
            issuer=issuer,
            credit_class=credit_class,
            credits=Decimal(credits),
            hours=Decimal(hours),
            start_date=start,
            end_date=start + timedelta(days=2),
            certificate_date=None,
            lecturer=False,
        )

    enter(people["赵磊"], f"{year}-03-05-201（国）", "慢性肾病管理新进展")
    waiting_city = enter(people["王芳"], f"{year}-04-05-202（国）", "泌尿外科微创技术培训班")
    CREDIT_ENTRY_WORKFLOW.review(waiting_city, unit_admin, "unit_approve")
    waiting_province = enter(people["赵磊"], f"{year}-14-02-203（国）", "外科护理质量提升")
    CREDIT_ENTRY_WORKFLOW.review(waiting_province, unit_admin, "unit_approve")
    CREDIT_ENTRY_WORKFLOW.review(waiting_province, city_admin, "city_approve")
    returned = enter(people["王芳"], f"{year}-18-01-204（国）", "围术期麻醉安全")
    CREDIT_ENTRY_WORKFLOW.review(returned, unit_admin, "unit_return", "学分证上的项目编号看不清，请重新上传清晰的扫描件。")
    approved = enter(
        people["赵磊"],
        "",
        "对口支援（派驻基层半年）",
        category="counterpart",
        credits="10",
        hours="0",
        issuer="浙江省卫生健康委员会",
    )
    CREDIT_ENTRY_WORKFLOW.review(approved, unit_admin, "unit_approve")
    CREDIT_ENTRY_WORKFLOW.review(approved, city_admin, "city_approve")
    CREDIT_ENTRY_WORKFLOW.review(approved, province_admin, "province_approve")

    # The unit enters one district activity for two colleagues at once.
    services.batch_enter(
        unit_admin,
        [people["王芳"], people["赵磊"]],
        evidence=[evidence_pdf("batch")],
        category="district_ii",
        activity_name="院内心电图读图培训",
        activity_number=f"浙一医院{year}-015",
        issuer="浙江大学医学院附属第一医院",
        credit_class="II",
        credits=Decimal("2"),
        hours=Decimal("12"),
        start_date=start,
        end_date=start,
        certificate_date=None,
        lecturer=False,
    )
    batch = CreditEntry.objects.get(learner=people["王芳"], source="batch")
    CREDIT_ENTRY_WORKFLOW.review(batch, city_admin, "city_approve")
    CREDIT_ENTRY_WORKFLOW.review(batch, province_admin, "province_approve")
    province = Organisation.objects.get(kind="province")
    CreditPolicy.objects.update_or_create(
        province=province,
        defaults={
            "earliest_year": year - 4,
            "early_review_titles": "副高,正高",
            "early_review_deadline": date.today() + timedelta(days=30),
        },
    )
    early = EarlyReviewRequest.objects.create(
        unit=Organisation.objects.get(name="浙江大学医学院附属第一医院"),
        requested_by=unit_admin,
        title="副高",
        reason="因晋升副高职称需要，申请提前审核学分",
        deadline=date.today() + timedelta(days=30),
    )
    early.candidates.set([people["赵磊"]])


def seed_platform(people, year):
    import openpyxl

    province_admin = User.objects.filter(roles__role=Role.PROVINCE_ADMIN).first()
    book = openpyxl.Workbook()
    book.active.append(["记录号", "证件号", "姓名", "项目编号", "项目名称", "学分", "学时", "学分类别", "完成日期"])
    for n, name in enumerate(("钱静", "褚红", "蒋丽"), start=1):
        person = people[name]
        book.active.append(
            [
                f"HYW-{year}-{n:04d}",
                person.id_number,
                person.name,
                f"{year}-03-11-9{n:02d}（国）",
                "远程教育：合理用药",
                2,
                6,
                "I",
                f"{year}-02-1{n}",
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    import_platform_file(
        SimpleUploadedFile("feed.xlsx", buffer.getvalue()), "北京华医网科技股份有限公司（华医网）", province_admin
    )


def seed():
    year = date.today().year
    people = seed_learners()
    seed_ledger(people, year)
    seed_readme_learner(year)
    seed_entries(people, year)
    seed_platform(people, year)
    compliance.rules_for(Organisation.objects.get(kind="province"), year)
