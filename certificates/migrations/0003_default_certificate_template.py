"""Version 1 of the default certificate template: the page as it was drawn before templates existed.

The layout is written out here (not read from render.DEFAULT_LAYOUT) so that a later change of the code's defaults
never changes what version 1 means. Every certificate already issued was drawn with it.
"""

from django.db import migrations

WIDTH, HEIGHT = 841.8897637795277, 595.2755905511812

LAYOUT_V1 = {
    "title": {"x": WIDTH / 2, "y": HEIGHT - 110, "size": 32},
    "number": {"x": WIDTH - 80 - 240, "y": HEIGHT - 150, "size": 11},
    "name": {"x": 130, "y": HEIGHT - 200, "size": 15},
    "unit": {"x": 130, "y": HEIGHT - 232, "size": 15},
    "project": {"x": 130, "y": HEIGHT - 264, "size": 15},
    "project_number": {"x": 130, "y": HEIGHT - 296, "size": 15},
    "when": {"x": 130, "y": HEIGHT - 328, "size": 15},
    "credits": {"x": 130, "y": HEIGHT - 372, "size": 20},
    "issuer": {"x": WIDTH - 300, "y": 120, "size": 14},
    "issued_on": {"x": WIDTH - 300, "y": 96, "size": 12},
    "qr": {"x": 80, "y": 70, "size": 96},
    "seal": {"x": WIDTH - 365, "y": 52, "size": 130},
    "signature": {"x": WIDTH - 560, "y": 70, "size": 110},
}


def create_default(apps, schema_editor):
    CertificateTemplate = apps.get_model("certificates", "CertificateTemplate")
    Certificate = apps.get_model("certificates", "Certificate")
    default, _ = CertificateTemplate.objects.get_or_create(
        province=None, version=1, defaults={"layout": LAYOUT_V1, "frame": True}
    )
    Certificate.objects.filter(template__isnull=True).update(template=default)


def remove_default(apps, schema_editor):
    apps.get_model("certificates", "Certificate").objects.update(template=None)
    apps.get_model("certificates", "CertificateTemplate").objects.filter(province=None, version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("certificates", "0002_certificate_templates")]

    operations = [migrations.RunPython(create_default, remove_default)]
