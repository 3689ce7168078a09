"""The organiser's codes, the roster through the review mechanism, survey results and templates."""

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cme_portal import punctuation
from cme_portal.accounts.models import Role
from cme_portal.accounts.permissions import role_required
from cme_portal.accounts.validators import mask_mobile
from cme_portal.errors import DomainError
from cme_portal.exports import xlsx_response
from cme_portal.review.views import take_action
from cme_portal.review.workflow import timeline
from projects.models import Project
from projects.selectors import get_session

from . import posters, selectors, services, tokens
from .forms import DoorPolicyForm, PlanForm, SurveyTemplateForm
from .models import ROSTER_WORKFLOW, DoorPolicy, RosterState, SurveyTemplate


@login_required
def codes(request, pk):
    """W3 for the organiser: refresh period, pair mode, schedule, survey; posters and projector links."""
    session = get_session(request.user, pk, own=True, approved=True)
    plan = services.plan_for(session)
    form = PlanForm(request.POST or None, instance=plan, initial={"survey": services.chosen_survey(session.project)})
    if request.method == "POST" and form.is_valid():
        form.save()
        services.choose_survey(session.project, form.cleaned_data["survey"])
        messages.success(request, _("签到设置已保存。"))
        return redirect("attendance:codes", pk)
    now = timezone.now()
    links = {d: posters.door_url(session, d, services.current_code(plan, d, now)) for d in tokens.DIRECTIONS}
    counts = session.attendances.aggregate(
        checked_in=Count("pk"), checked_out=Count("pk", filter=Q(checked_out_at__isnull=False))
    )
    return render(
        request,
        "attendance/codes.html",
        {
            "session": session,
            "plan": plan,
            "form": form,
            "links": links,
            "counts": counts,
            "denied": selectors.denied_scans(session),
            "windows": {d: services.open_window(plan, d, services.scan_day(plan, now)) for d in tokens.DIRECTIONS},
            "desk_staff": selectors.desk_staff(session),
            "policy": DoorPolicy.current(),
        },
    )


@login_required
def poster(request, pk, direction):
    if direction not in tokens.DIRECTIONS:
        raise Http404
    session = get_session(request.user, pk, own=True, approved=True)
    plan = services.plan_for(session)
    # A poster is printed ahead for one day of the session (?day=YYYY-MM-DD): today while it runs, else the first day.
    today = timezone.localdate()
    day = parse_date(request.GET.get("day", "") or "") or (
        today if session.start_date <= today <= session.end_date else session.start_date
    )
    if not session.start_date <= day <= session.end_date:
        raise Http404
    # The poster's code works on ``day`` only: within that day's hours of its direction.
    day_opens, day_closes = plan.day_bounds(day)
    if direction == tokens.CHECK_IN:
        opens, closes = day_opens - plan.open_before, day_closes
    else:
        opens, closes = day_opens, day_closes + plan.close_after
    local = timezone.localtime
    valid = _("本二维码仅限 %(day)s 当天使用，%(what)s时间 %(opens)s–%(closes)s") % {
        "day": day.strftime("%Y-%m-%d"),
        "what": _("签到") if direction == tokens.CHECK_IN else _("撤离"),
        "opens": local(opens).strftime("%H:%M"),
        "closes": local(closes).strftime("%H:%M"),
    }
    pdf = posters.poster_pdf(session, direction, services.code_for_day(plan, direction, day), valid)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="qr-{session.pk}-{direction}.pdf"'
    return response


@login_required
def projector(request, pk, direction):
    """A full-screen code that reloads itself just after its window turns (no JavaScript)."""
    if direction not in tokens.DIRECTIONS:
        raise Http404
    session = get_session(request.user, pk, own=True, approved=True)
    plan = services.plan_for(session)
    now = timezone.now()
    _start, end = tokens.window_bounds(now, plan.refresh_seconds)
    refresh = max(5, min(300, int(end - now.timestamp()) + 2))
    url = posters.door_url(session, direction, services.current_code(plan, direction, now))
    return render(
        request,
        "attendance/projector.html",
        {
            "session": session,
            "direction": direction,
            "svg": mark_safe(posters.qr_svg(url)),
            "refresh": refresh,
            "counts": session.attendances.aggregate(n=Count("pk"), out=Count("pk", filter=Q(checked_out_at__isnull=False))),
        },
    )


# --- rosters ------------------------------------------------------------------------


@login_required
def roster(request, pk):
    """W4: the attendance list; the organiser submits it, the unit admin adjusts and forwards, the province decides."""
    session = get_session(request.user, pk, approved=True)
    plan = services.plan_for(session)
    roster_obj = services.roster_for(session)
    rows = services.roster_rows(session, plan)
    selections = {s.learner_id: s for s in roster_obj.selections.all()}
    for row in rows:
        row["selection"] = selections.get(row["learner_id"])
        row["mobile_masked"] = mask_mobile(row["learner__mobile"] or "")
    can_select = roster_obj.state == RosterState.SUBMITTED and request.user.in_scope(Role.UNIT_ADMIN, roster_obj.unit.path)
    return render(
        request,
        "attendance/roster.html",
        {
            "session": session,
            "plan": plan,
            "roster": roster_obj,
            "rows": rows,
            "can_select": can_select,
            # 提交学员名单 is offered once the session is over (the service refuses it before, too).
            "actions": [
                t
                for t in ROSTER_WORKFLOW.available(roster_obj, request.user)
                if t.action != "submit" or services.session_over(session)
            ],
            "over": services.session_over(session),
            "timeline": timeline(roster_obj),
            "grace_minutes": plan.effective_grace_minutes(),
            "totals": {
                "flagged": sum(1 for r in rows if r["flags"]),
                "learners": len(rows),
                "complete": sum(r["both_scans"] for r in rows),
                "meets": sum(r["meets"] for r in rows),
                "surveys": sum(1 for r in rows if r["surveys"]),
                "selected": sum(1 for s in selections.values() if s.selected),
            },
        },
    )


@require_POST
@login_required
def roster_action(request, pk):
    session = get_session(request.user, pk, approved=True)
    roster_obj = services.roster_for(session)

    def submit(action, reason):
        if roster_obj.organiser_id != request.user.pk:
            raise DomainError(_("只有立项用户可以提交学员名单。"), code="forbidden")
        services.submit_roster(roster_obj, request.user)

    return take_action(
        request,
        roster_obj,
        submit=submit,
        review=lambda action, reason: ROSTER_WORKFLOW.review(roster_obj, request.user, action, reason),
        back_to=roster_obj.get_absolute_url(),
        next_prefix="/attendance/",
    )


@require_POST
@login_required
def roster_select(request, pk):
    session = get_session(request.user, pk, approved=True)
    roster_obj = services.roster_for(session)
    try:
        services.change_selection(
            roster_obj,
            request.user,
            int(request.POST.get("learner", 0)),
            request.POST.get("selected") == "1",
            request.POST.get("reason", ""),
        )
    except (DomainError, ValueError) as error:
        if getattr(error, "code", "") == "forbidden":
            raise Http404 from None
        messages.error(request, getattr(error, "message", _("请求有误。")))
    except roster_obj.selections.model.DoesNotExist:
        raise Http404 from None
    return redirect("attendance:roster", pk)


@login_required
def roster_export(request, pk):
    session = get_session(request.user, pk, approved=True)
    plan = services.plan_for(session)
    rows = (
        [
            row["learner__name"],
            mask_mobile(row["learner__mobile"] or ""),
            row["unit"],
            row["learner__profile__department"] or "",
            timezone.localtime(row["first_in"]).strftime("%Y-%m-%d %H:%M") if row["first_in"] else "",
            timezone.localtime(row["last_out"]).strftime("%Y-%m-%d %H:%M") if row["last_out"] else "",
            float(row["hours"] or 0),
            _("是") if row["surveys"] else _("否"),
            _("是") if row["meets"] else _("否"),
            punctuation.mark("；").join(f"{flag['label']}{punctuation.mark('：')}{flag['evidence']}" for flag in row["flags"]),
        ]
        for row in services.roster_rows(session, plan)
    )
    return xlsx_response(
        filename=f"roster-{session.pk}.xlsx",
        title=_("学员名单"),
        headers=[
            _("姓名"),
            _("手机号码"),
            _("单位"),
            _("科室"),
            _("签到时间"),
            _("撤离时间"),
            _("学时"),
            _("问卷"),
            _("达到学时"),
            _("可疑情况"),
        ],
        rows=rows,
    )


# --- surveys --------------------------------------------------------------------------


def _tally(responses):
    """Counts per question and option over ``responses`` (answers JSON)."""
    counts = {}
    for answers in responses:
        for key, chosen in answers.items():
            counts.setdefault(key, Counter()).update(chosen)
    return counts


def _results(template, responses):
    counts = _tally(responses)
    return [
        {
            "id": f"survey-{q['key']}",
            "text": template.shown(q["text"]),
            "rows": [(template.shown(option), counts.get(q["key"], Counter())[option]) for option in q["options"]],
            "chart": {
                "labels": [template.shown(o) for o in q["options"]],
                "values": [counts.get(q["key"], Counter())[o] for o in q["options"]],
            },
        }
        for q in template.questions
    ]


@login_required
def survey_results(request, pk):
    session = get_session(request.user, pk, approved=True)
    template = services.survey_for(session)
    responses = selectors.survey_answers(session, template)
    return render(
        request,
        "attendance/survey_results.html",
        {
            "title": str(session),
            "session": session,
            "count": len(responses),
            "results": _results(template, responses),
        },
    )


@login_required
def project_survey_results(request, project_pk):
    """Survey results over every session of a project the viewer may see."""
    project = get_object_or_404(Project, pk=project_pk)
    sessions = selectors.approved_sessions_of_project(request.user, project)
    if not sessions:
        raise Http404
    template = services.survey_for(sessions[0])
    responses = selectors.survey_answers(sessions, template)
    return render(
        request,
        "attendance/survey_results.html",
        {
            "title": project.name,
            "count": len(responses),
            "results": _results(template, responses),
            "sessions": sessions,
        },
    )


@role_required(Role.PROVINCE_ADMIN)
def door_policy(request):
    """签到规则: the province's default late-arrival grace, which every session without its own follows."""
    policy = DoorPolicy.objects.order_by("pk").first() or DoorPolicy()
    form = DoorPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        services.save_door_policy(form, request.user)
        messages.success(request, _("签到规则已保存。"))
        return redirect("attendance:door_policy")
    return render(request, "attendance/door_policy.html", {"form": form})


@role_required(Role.PROVINCE_ADMIN)
def survey_templates(request, pk=None):
    instance = get_object_or_404(SurveyTemplate, pk=pk) if pk else None
    if instance is None and request.method == "GET" and not request.GET.get("new"):
        services.default_survey()
        return render(request, "attendance/survey_templates.html", {"templates": selectors.survey_templates()})
    form = SurveyTemplateForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.save_survey_template(form)
        messages.success(request, _("问卷已保存。"))
        return redirect("attendance:survey_templates")
    return render(request, "attendance/survey_template_form.html", {"form": form, "template": instance})
