"""The API under /api/v1/ (DESIGN.md §6): platform feeds and read-only compliance for units' systems.

Views parse, call a service or a selector, answer. Every call a token makes is recorded (ApiCall) and
logged as one structured line, whatever its answer.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cme_portal import punctuation
from cme_portal.ratelimit import client_ip
from credits.platforms import Outcome, import_records

from . import selectors, services
from .auth import AnyToken, PlatformToken, UnitToken
from .models import ApiToken
from .serializers import (
    ComplianceQuerySerializer,
    ErrorSerializer,
    LearnerComplianceSerializer,
    LearnerPageSerializer,
    PageQuerySerializer,
    PlatformBatchResultSerializer,
    PlatformBatchSerializer,
    TokenInfoSerializer,
)

ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="没有令牌、令牌无效或已停用"),
    403: OpenApiResponse(ErrorSerializer, description="令牌类型不符，或平台已停止数据对接"),
    429: OpenApiResponse(ErrorSerializer, description="调用过于频繁（每个令牌每分钟有上限）"),
}


class TokenView(APIView):
    """Records and logs every call; subclasses put their record counts in ``self.counts``."""

    operation = ""
    query_names = frozenset()

    def initial(self, request, *args, **kwargs):
        self.counts = {}
        super().initial(request, *args, **kwargs)
        # A misspelt filter ("deparment") must not silently answer everything.
        unknown = sorted(set(request.query_params) - self.query_names)
        if unknown:
            raise exceptions.ValidationError(
                {"query": [_("未知的查询参数：%(names)s") % {"names": punctuation.mark("、").join(unknown)}]}
            )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        token = getattr(request, "_auth", None)
        services.record_call(
            token=token if isinstance(token, ApiToken) else None,
            method=request.method,
            path=request.path,
            operation=self.operation,
            status=response.status_code,
            counts=getattr(self, "counts", {}),
            client_ip=client_ip(request),
        )
        return response


class PlatformCredits(TokenView):
    permission_classes = [PlatformToken]
    operation = "platform_credits"

    @extend_schema(
        operation_id="platform_credits_create",
        summary="平台推送学分记录（每批至多 1000 条）",
        description=(
            "每条记录按平台自己的记录号幂等：同一记录再次推送会被跳过，不会重复计分。"
            "每条记录的结果为 imported（已导入）、skipped（已有）或 refused（拒绝，附代码与中文原因）；"
            "被拒绝的记录不写入任何内容，其余记录照常导入。规则与省继教办的文件导入相同。"
        ),
        request=PlatformBatchSerializer,
        responses={
            200: PlatformBatchResultSerializer,
            400: OpenApiResponse(ErrorSerializer, description="批次格式不正确"),
            **ERRORS,
        },
        tags=["platform"],
    )
    def post(self, request):
        batch = PlatformBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        records = batch.validated_data["records"]
        token = request.auth
        results = import_records(platform=token.platform.name, records=enumerate(records), imported_by=token.created_by)
        tally = {outcome: sum(1 for r in results if r.status == outcome) for outcome in Outcome.values}
        self.counts = {"records": len(records), **tally}
        body = {
            **tally,
            "results": [
                {"index": r.ref, "record_id": r.record_id, "status": r.status, "code": r.code, "message": str(r.message)}
                for r in results
            ],
        }
        return Response(body)


class LearnerPages(pagination.PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class ComplianceLearners(TokenView):
    permission_classes = [UnitToken]
    operation = "compliance_learners"
    query_names = frozenset(ComplianceQuerySerializer().fields) | frozenset(PageQuerySerializer().fields)

    @extend_schema(
        operation_id="compliance_learners_list",
        summary="本单位（或地市）学员的年度学分与达标情况",
        description=("只读。只返回令牌所属机构及其下级单位的学员；证件号和手机号部分隐藏，除非省继教办为该令牌开通完整信息。"),
        parameters=[ComplianceQuerySerializer, PageQuerySerializer],
        responses={
            200: LearnerPageSerializer,
            400: OpenApiResponse(ErrorSerializer, description="查询参数不正确"),
            404: OpenApiResponse(ErrorSerializer, description="单位不在令牌范围内，或页码超出范围"),
            **ERRORS,
        },
        tags=["compliance"],
    )
    def get(self, request):
        query = ComplianceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        token = request.auth
        learners, year = selectors.token_learners(
            token,
            year=query.validated_data.get("year"),
            department=query.validated_data.get("department", ""),
            unit=query.validated_data.get("unit"),
        )
        paginator = LearnerPages()
        page = paginator.paginate_queryset(learners, request, view=self)
        rows = [selectors.learner_row(profile, year, include_personal=token.include_personal) for profile in page]
        self.counts = {"records": len(rows)}
        return paginator.get_paginated_response(LearnerComplianceSerializer(rows, many=True).data)


class TokenInfo(TokenView):
    permission_classes = [AnyToken]
    operation = "token_info"

    @extend_schema(
        operation_id="token_retrieve",
        summary="当前令牌的类型与范围",
        responses={200: TokenInfoSerializer, **ERRORS},
        tags=["token"],
    )
    def get(self, request):
        token = request.auth
        body = {
            "kind": token.kind,
            "name": token.name,
            "prefix": token.prefix,
            "platform": token.platform.name if token.platform_id else None,
            "org": {"id": token.org_id, "name": token.org.name} if token.org_id else None,
            "include_personal": token.include_personal,
            "rate_limit_per_minute": settings.API_RATE_LIMIT_PER_MINUTE,
        }
        return Response(TokenInfoSerializer(body).data, status=status.HTTP_200_OK)


def exception_handler(exc, context):
    """DRF's answer in one shape, ``{"detail": …}`` (a message, or each field's messages for a 400), with a
    Chinese message for a 404 and a 429."""
    from django.http import Http404
    from rest_framework.views import exception_handler as drf_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到：不在令牌范围内，或页码超出范围。"))
    elif isinstance(exc, exceptions.Throttled):
        exc = exceptions.Throttled(wait=exc.wait, detail=_("调用过于频繁，请 %(seconds)s 秒后再试。") % {"seconds": exc.wait})
    response = drf_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": response.data}
    return response


class Docs(SpectacularSwaggerSplitView):
    """Swagger UI from static/ (drf-spectacular-sidecar), its start script a separate file: no inline code, CSP holds."""

    url_name = "api:schema"
    template_name = "api/swagger_ui.html"
    title = gettext_lazy("继续医学教育管理平台 API v1")
