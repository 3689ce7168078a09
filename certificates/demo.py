"""Demo certificate template: the demo province's own version with a red seal and a signature. The demo's
certificates are drawn after seed_demo's transaction commits, so with it; any drawn before are re-issued with it
(as the province admin would, from the template page).

The demo signs with a self-signed key made on first use in MEDIA_ROOT/keys (CERTIFICATE_SIGNING_SELF_SIGNED is on
with DEBUG, as `make run` has it).
"""

from django.core.files.uploadedfile import SimpleUploadedFile

from cme_portal.accounts.demo import PROVINCE
from cme_portal.accounts.models import Organisation, OrgKind, Role, RoleAssignment

from . import demo_images, designs, tasks
from .models import CertificateTemplate


def seed():
    redraw_for_this_address()
    province = Organisation.objects.filter(name=PROVINCE, kind=OrgKind.PROVINCE, parent=None).first()
    if province is None or CertificateTemplate.objects.filter(province=province).exists():
        return
    admin = RoleAssignment.objects.filter(role=Role.PROVINCE_ADMIN, org=province).select_related("user").first()
    if admin is None:
        return
    template = designs.save_template(
        admin.user,
        province,
        title="",
        issuing_body="",
        frame=True,
        layout={},
        uploads={
            "seal": SimpleUploadedFile("demo-seal.png", demo_images.seal_png(f"{PROVINCE}继续医学教育委员会"), "image/png"),
            "signature": SimpleUploadedFile("demo-signature.png", demo_images.signature_png("周敏"), "image/png"),
        },
    )
    if designs.stale_certificates(province, template).exists():  # drawn before (seed_demo run on older data)
        job = designs.request_reissue(admin.user, province)
        tasks.reissue(job.pk)  # in this process: the demo's certificates carry the seal at once


def redraw_for_this_address():
    """`make run PORT=8101` after a first run on 8000: the demo's certificates carry the portal's address in their QR
    code, so those drawn for another address are drawn again (their snapshot differs; render_certificate redraws)."""
    from django.conf import settings

    from . import services
    from .models import Certificate, CertificateStatus

    stale = (
        Certificate.objects.filter(status=CertificateStatus.ISSUED)
        .exclude(file="")
        .exclude(snapshot__verify_url__startswith=settings.PORTAL_BASE_URL + "/")
        .values_list("record_id", flat=True)
    )
    services.render_many(list(stale))
