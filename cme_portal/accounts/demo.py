"""Demo organisation tree and one account per role (`manage.py seed_demo`).

Idempotent: every row is found by its natural key before it is created.
"""

from datetime import date

from stdnum.cn import ric

from .models import DocumentType, LearnerProfile, Organisation, OrgKind, Position, Role, RoleAssignment, Sex, Title, User

DEMO_PASSWORD = "Demo@2026"

PROVINCE = "浙江省"
# city -> districts -> units; a unit tuple is (name, grassroots, tertiary)
TREE = {
    "杭州市": {
        None: [
            ("浙江大学医学院附属第一医院", False, True),
            ("浙江医院", False, True),
            ("杭州市第一人民医院", False, True),
            # Co-organisers of the remote-filed projects of seed 004 (they report those credits).
            ("浙江省肿瘤医院", False, True),
            ("浙江大学医学院附属第二医院", False, True),
            ("浙江大学医学院附属第四医院", False, True),
            ("树兰（杭州）医院", False, True),
            ("杭州市妇产科医院（杭州市妇幼保健院）", False, True),
            ("浙江省医师协会", False, False),
            ("浙江省医院协会", False, False),
            ("浙江省康复医学会", False, False),
            ("浙江省基层卫生协会", False, False),
            ("浙江省营养学会", False, False),
        ],
        "西湖区": [("西湖区转塘街道社区卫生服务中心", True, False)],
    },
    "宁波市": {
        None: [
            ("宁波市第一医院", False, True),
            ("宁波市第六医院", False, True),
            ("宁波市康复医院", False, False),
            ("宁波市杭州湾医院", False, False),
            ("中国科学院大学宁波华美医院", False, True),
        ],
        "鄞州区": [("鄞州区钟公庙街道社区卫生服务中心", True, False)],
    },
    "温州市": {
        None: [("温州医科大学附属第一医院", False, True), ("温州市人民医院", False, True)],
        "鹿城区": [("鹿城区南汇街道社区卫生服务中心", True, False)],
    },
    "金华市": {"东阳市": [("东阳市妇幼保健院", False, False)]},
    "丽水市": {None: [("丽水市人民医院", False, True)]},
}
DEPARTMENTS = ["科教科", "心血管内科", "普外科", "护理部", "麻醉科"]
CODES = {
    "浙江省": "330000",
    "杭州市": "330100",
    "宁波市": "330200",
    "温州市": "330300",
    "西湖区": "330106",
    "鄞州区": "330212",
    "鹿城区": "330302",
    "金华市": "330700",
    "东阳市": "330783",
    "丽水市": "331100",
}


def resident_id(region, birth, sequence, sex):
    """A valid resident ID number: region code, birth date, sequence with the sex digit, check digit."""
    body = f"{region}{birth:%Y%m%d}{sequence:02d}{1 if sex == Sex.MALE else 2}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character


# (role, name, sex, birth, mobile, node name, unit name)
ACCOUNTS = [
    (Role.PROVINCE_ADMIN, "周敏", Sex.FEMALE, date(1975, 3, 8), "13900000001", "浙江省", None),
    (Role.CITY_ADMIN, "陈刚", Sex.MALE, date(1978, 6, 1), "13900000002", "杭州市", None),
    (
        Role.UNIT_ADMIN,
        "李娜",
        Sex.FEMALE,
        date(1982, 9, 12),
        "13900000003",
        "浙江大学医学院附属第一医院",
        "浙江大学医学院附属第一医院",
    ),
    (
        Role.ORGANISER,
        "张伟",
        Sex.MALE,
        date(1970, 1, 20),
        "13900000004",
        "浙江大学医学院附属第一医院",
        "浙江大学医学院附属第一医院",
    ),
    (Role.LEARNER, "刘洋", Sex.MALE, date(1990, 11, 5), "13900000005", None, "浙江大学医学院附属第一医院"),
    (Role.CITY_ADMIN, "吴芳", Sex.FEMALE, date(1980, 4, 16), "13900000006", "宁波市", None),
    (Role.UNIT_ADMIN, "郑浩", Sex.MALE, date(1984, 7, 30), "13900000007", "宁波市第一医院", "宁波市第一医院"),
    (Role.LEARNER, "孙丽", Sex.FEMALE, date(1992, 2, 14), "13900000008", None, "宁波市第一医院"),
]
AREA_CODES = {"杭州市": "0571", "宁波市": "0574", "温州市": "0577", "金华市": "0579", "丽水市": "0578"}
OFFICE_HOURS = "工作日 8:30-11:30，14:00-17:00"
# The offices people are sent to when a page refuses them (issue 13); the numbers are the demo's own.
CONTACTS = {
    "浙江省": ("0571-87709206", "工作日 8:30-12:00，14:30-17:30", "省卫生健康委科教处（继教办）5 楼 512 室"),
    "杭州市": ("0571-85155021", OFFICE_HOURS, "市卫生健康委科教处 3 楼 306 室"),
    "宁波市": ("0574-87362145", OFFICE_HOURS, "市卫生健康委科教处 4 楼 402 室"),
    "温州市": ("0577-88963107", OFFICE_HOURS, "市卫生健康委科教处 2 楼 215 室"),
    "金华市": ("0579-82468213", OFFICE_HOURS, "市卫生健康委科教处 6 楼 603 室"),
    "丽水市": ("0578-22131546", OFFICE_HOURS, "市卫生健康委科教处 3 楼 318 室"),
    "西湖区": ("0571-87961230", OFFICE_HOURS, "区卫生健康局 2 楼 医政科"),
    "鄞州区": ("0574-88133602", OFFICE_HOURS, "区卫生健康局 3 楼 科教科"),
    "鹿城区": ("0577-88260931", OFFICE_HOURS, "区卫生健康局 4 楼 科教科"),
    "东阳市": ("0579-86612275", OFFICE_HOURS, "市卫生健康局 5 楼 科教科"),
}


def unit_contact(city_name, unit_name, index):
    """A hospital's science office (科教科); associations have none, so their people are sent to the city."""
    if "协会" in unit_name or "学会" in unit_name:
        return None
    number = f"{AREA_CODES[city_name]}-8{(7100231 + 7919 * index) % 10000000:07d}"
    floor = 3 + index % 4
    room = "社区卫生服务中心 2 楼 办公室" if "社区" in unit_name else f"行政楼 {floor} 楼 科教科 {floor}{index % 9 + 1:02d} 室"
    return number, OFFICE_HOURS, room


def _give_contact(node, contact):
    """Fill a node's contact once; what an admin typed since is kept."""
    if contact and not node.contact_phone:
        node.contact_phone, node.office_hours, node.office_address = contact
        node.save(update_fields=["contact_phone", "office_hours", "office_address"])


def seed_tree():
    province, _ = Organisation.objects.get_or_create(
        name=PROVINCE, parent=None, defaults={"kind": OrgKind.PROVINCE, "code": CODES[PROVINCE]}
    )
    _give_contact(province, CONTACTS[PROVINCE])
    index = 0
    for city_name, districts in TREE.items():
        city, _ = Organisation.objects.get_or_create(
            name=city_name, parent=province, defaults={"kind": OrgKind.CITY, "code": CODES[city_name]}
        )
        _give_contact(city, CONTACTS[city_name])
        for district_name, units in districts.items():
            parent = city
            if district_name:
                parent, _ = Organisation.objects.get_or_create(
                    name=district_name, parent=city, defaults={"kind": OrgKind.DISTRICT, "code": CODES[district_name]}
                )
                _give_contact(parent, CONTACTS[district_name])
            for unit_name, grassroots, tertiary in units:
                unit, _ = Organisation.objects.get_or_create(
                    name=unit_name,
                    parent=parent,
                    defaults={"kind": OrgKind.UNIT, "is_grassroots": grassroots, "is_tertiary": tertiary},
                )
                index += 1
                _give_contact(unit, unit_contact(city_name, unit_name, index))
                for department in DEPARTMENTS[: 3 if grassroots else 5]:
                    Organisation.objects.get_or_create(name=department, parent=unit, defaults={"kind": OrgKind.DEPARTMENT})
    return province


def seed_accounts():
    users = {}
    for index, (role, name, sex, birth, mobile, node_name, unit_name) in enumerate(ACCOUNTS, start=1):
        id_number = resident_id("330106", birth, index, sex)
        user = User.objects.filter(id_number=id_number).first()
        if user is None:
            user = User.objects.create_user(id_number, DEMO_PASSWORD, id_type=DocumentType.RESIDENT_ID, name=name, mobile=mobile)
        unit = Organisation.objects.filter(name=unit_name, kind=OrgKind.UNIT).first() if unit_name else None
        profile, _ = LearnerProfile.objects.get_or_create(user=user)
        if not profile.sex:
            profile.sex, profile.birth_date = sex, birth
            profile.unit = unit
            profile.region = unit.ancestor_of_kind(OrgKind.DISTRICT, OrgKind.CITY) if unit else None
            profile.title = Title.INTERMEDIATE if role == Role.LEARNER else Title.ASSOCIATE
            profile.position = Position.STAFF
            profile.department = "心血管内科"
            profile.mailing_address = "浙江省杭州市西湖区示例路 1 号"
            profile.save()
        # Everyone is a learner too (DESIGN.md §3: an organiser is also a learner).
        RoleAssignment.objects.get_or_create(user=user, role=Role.LEARNER, defaults={"org": unit})
        if node_name:
            node = Organisation.objects.get(name=node_name, kind__in=[OrgKind.PROVINCE, OrgKind.CITY, OrgKind.UNIT])
            RoleAssignment.objects.get_or_create(user=user, role=role, org=node)
        users[(role, name)] = user

    if not User.objects.filter(id_number="ADMIN").exists():
        User.objects.create_superuser("admin", DEMO_PASSWORD, name="系统管理员", mobile="13900000000")
    return users


def seed():
    seed_tree()
    return seed_accounts()
