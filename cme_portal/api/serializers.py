"""The API's request and answer shapes; the OpenAPI schema is generated from them."""

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from credits.platforms import FeedCode, Outcome

MAX_BATCH = 1000


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}]})
class TextOrNumber(serializers.CharField):
    """A string or a number, kept as text: the feed's rules (credits.platforms) judge its content."""

    def __init__(self, **kwargs):
        super().__init__(allow_blank=True, trim_whitespace=True, **kwargs)
        # Control characters are the feed's rule to refuse (one record, not the whole batch).
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


class PlatformRecordSerializer(serializers.Serializer):
    record_id = TextOrNumber(help_text=_("平台自己的记录号：同一平台的同一记录号只计一次（幂等）"))
    id_number = TextOrNumber(help_text=_("学员证件号"))
    name = TextOrNumber(help_text=_("学员姓名，须与证件号登记的姓名一致"))
    project_number = TextOrNumber(help_text=_("项目编号，如 2026-03-01-101（国）"))
    project_name = TextOrNumber(help_text=_("项目名称"))
    credits = TextOrNumber(help_text=_("学分，大于 0 且不超过 25"))
    hours = TextOrNumber(required=False, help_text=_("学时，可省略"))
    credit_class = TextOrNumber(help_text=_("学分类别：I 或 II"))
    finished_on = TextOrNumber(help_text=_("完成日期，如 2026-05-01，不晚于今天"))


class PlatformBatchSerializer(serializers.Serializer):
    records = serializers.ListField(child=PlatformRecordSerializer(), min_length=1, max_length=MAX_BATCH)


class RecordResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("记录在本批中的序号，从 0 开始"))
    record_id = serializers.CharField()
    status = serializers.ChoiceField(choices=Outcome.choices)
    code = serializers.ChoiceField(choices=FeedCode.choices)
    message = serializers.CharField(help_text=_("原因（中文）"))


class PlatformBatchResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField()
    skipped = serializers.IntegerField()
    refused = serializers.IntegerField()
    results = RecordResultSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.JSONField(help_text=_("原因（中文），或各字段的原因"))


class QueryIntegerField(serializers.IntegerField):
    """An integer in the query string, where ``?page_size=`` is refused like any other value that is no number.

    DRF reads an empty optional value of a form as absent; in a query string the schema says integer, and an
    empty one answered with the default page (schemathesis found it)."""

    def get_value(self, dictionary):
        if dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class ComplianceQuerySerializer(serializers.Serializer):
    """The list's filters; page and page_size are the paginator's (PageQuerySerializer)."""

    year = QueryIntegerField(required=False, min_value=2000, max_value=2100, help_text=_("学分年度，默认今年"))
    # No NUL: a department never holds one, and the schema says so (a NUL is refused with 400, as a text the
    # schema allowed would not be; schemathesis found it).
    department = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=50,
        validators=[RegexValidator(r"^[^\x00]*$", message=_("科室名称不能含有空字符。"))],
        help_text=_("科室名称（完全一致）"),
    )
    unit = QueryIntegerField(required=False, min_value=1, help_text=_("令牌范围内某个单位的编号"))


class UnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LearnerComplianceSerializer(serializers.Serializer):
    learner_id = serializers.IntegerField()
    name = serializers.CharField()
    id_number = serializers.CharField(help_text=_("证件号；除非省继教办允许，否则部分隐藏"))
    mobile = serializers.CharField(allow_null=True, help_text=_("手机号码；除非省继教办允许，否则部分隐藏"))
    unit = UnitSerializer()
    department = serializers.CharField()
    staff_category = serializers.CharField()
    year = serializers.IntegerField()
    class_i = serializers.DecimalField(max_digits=7, decimal_places=1)
    class_ii = serializers.DecimalField(max_digits=7, decimal_places=1)
    national_five_years = serializers.DecimalField(max_digits=7, decimal_places=1)
    advanced_study_months = serializers.IntegerField()
    compliant = serializers.BooleanField()


class LearnerPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("符合条件的学员总数"))
    next = serializers.URLField(allow_null=True, help_text=_("下一页地址"))
    previous = serializers.URLField(allow_null=True, help_text=_("上一页地址"))
    results = LearnerComplianceSerializer(many=True)


class PageQuerySerializer(serializers.Serializer):
    page = QueryIntegerField(required=False, min_value=1, help_text=_("页码，从 1 开始"))
    page_size = QueryIntegerField(required=False, min_value=1, max_value=500, help_text=_("每页条数，默认 100，至多 500"))


class TokenInfoSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    platform = serializers.CharField(allow_null=True)
    org = UnitSerializer(allow_null=True)
    include_personal = serializers.BooleanField()
    rate_limit_per_minute = serializers.IntegerField()
