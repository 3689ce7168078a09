import io

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image

from cme_portal import punctuation
from cme_portal.captcha import CaptchaField
from projects.models import Session

from . import render


class ByDocumentForm(forms.Form):
    id_number = forms.CharField(label=gettext_lazy("证件号"), max_length=32)
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=50)
    captcha = CaptchaField(label=gettext_lazy("验证码"))


class ByProjectForm(forms.Form):
    project_number = forms.CharField(label=gettext_lazy("项目编号"), max_length=64)
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=50)
    captcha = CaptchaField(label=gettext_lazy("验证码"))


class BulkForm(forms.Form):
    session = forms.ModelChoiceField(label=gettext_lazy("按期次"), queryset=Session.objects.none(), required=False)
    year = forms.IntegerField(label=gettext_lazy("或按年度（本单位全部）"), required=False, min_value=2000, max_value=2100)
    force = forms.BooleanField(
        label=gettext_lazy("有缺项也打包（缺项的证书不放入，并在压缩包内列出）"),
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("session") and not cleaned.get("year"):
            raise forms.ValidationError(_("请选择期次，或填写年度。"))
        return cleaned


# ---------------------------------------------------------------- the province's template editor

IMAGE_LIMIT = 3 * 1024 * 1024
FIELD_LABELS = {
    "title": gettext_lazy("标题"),
    "number": gettext_lazy("证书编号"),
    "name": gettext_lazy("姓名、性别、年龄"),
    "unit": gettext_lazy("工作单位"),
    "project": gettext_lazy("项目名称"),
    "project_number": gettext_lazy("项目编号"),
    "when": gettext_lazy("时间地点"),
    "credits": gettext_lazy("授予学分"),
    "issuer": gettext_lazy("颁发机构"),
    "issued_on": gettext_lazy("颁发日期"),
    "qr": gettext_lazy("二维码"),
    "seal": gettext_lazy("印章"),
    "signature": gettext_lazy("签名"),
}


def _check_image(upload, *, formats, alpha=False):
    """The upload's bytes if it is a readable image of one of ``formats`` (and with transparency when ``alpha``)."""
    if upload.size > IMAGE_LIMIT:
        raise forms.ValidationError(_("图片不能超过 3 MB。"))
    data = upload.read()
    upload.seek(0)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            kind, mode, info = image.format, image.mode, image.info
            width, height = image.size
    except Exception:
        raise forms.ValidationError(_("无法读取该图片，请上传 PNG 或 JPEG 文件。"))
    if kind not in formats:
        raise forms.ValidationError(_("图片格式须为 %(formats)s。") % {"formats": punctuation.mark("、").join(formats)})
    if width > 6000 or height > 6000:
        raise forms.ValidationError(_("图片尺寸过大（长宽不超过 6000 像素）。"))
    if alpha and not (mode in ("RGBA", "LA", "PA") or "transparency" in info):
        raise forms.ValidationError(_("印章图须为透明背景的 PNG，否则会遮住下面的文字。"))
    return data


class TemplateForm(forms.Form):
    """The province's certificate template: texts, images, and x / y / size of every field (points on A4 landscape)."""

    title = forms.CharField(label=gettext_lazy("证书标题"), max_length=40, required=False)
    issuing_body = forms.CharField(
        label=gettext_lazy("颁发机构"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("留空则为“某某省继续医学教育委员会”。"),
    )
    frame = forms.BooleanField(label=gettext_lazy("绘制金色边框"), required=False)
    background = forms.FileField(label=gettext_lazy("背景图（PNG 或 JPEG，铺满整页）"), required=False)
    clear_background = forms.BooleanField(label=gettext_lazy("去掉背景图"), required=False)
    seal = forms.FileField(label=gettext_lazy("印章图（透明背景的 PNG）"), required=False)
    clear_seal = forms.BooleanField(label=gettext_lazy("去掉印章"), required=False)
    signature = forms.FileField(label=gettext_lazy("签名图（PNG，可选）"), required=False)
    clear_signature = forms.BooleanField(label=gettext_lazy("去掉签名"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, kind in render.FIELD_KINDS.items():
            largest = 60 if kind != "image" else 400
            smallest = 6 if kind != "image" else 20
            self.fields[f"{name}_x"] = forms.FloatField(min_value=0, max_value=render.WIDTH, label="x")
            self.fields[f"{name}_y"] = forms.FloatField(min_value=0, max_value=render.HEIGHT, label="y")
            self.fields[f"{name}_size"] = forms.FloatField(min_value=smallest, max_value=largest, label=_("大小"))

    @staticmethod
    def initial_for(template):
        initial = {
            "title": template.title if template else "",
            "issuing_body": template.issuing_body if template else "",
            "frame": template.frame if template else True,
        }
        layout = (template.layout if template else None) or {}
        for name in render.FIELD_KINDS:
            place = {**render.DEFAULT_LAYOUT[name], **(layout.get(name) or {})}
            for key in ("x", "y", "size"):
                initial[f"{name}_{key}"] = round(place[key], 2)
        return initial

    def layout_rows(self):
        """(label, kind, x field, y field, size field) for the template's table."""
        return [
            (FIELD_LABELS[name], kind, self[f"{name}_x"], self[f"{name}_y"], self[f"{name}_size"])
            for name, kind in render.FIELD_KINDS.items()
        ]

    def clean_background(self):
        upload = self.cleaned_data.get("background")
        if upload:
            self.cleaned_data["background_bytes"] = _check_image(upload, formats=("PNG", "JPEG"))
        return upload

    def clean_seal(self):
        upload = self.cleaned_data.get("seal")
        if upload:
            self.cleaned_data["seal_bytes"] = _check_image(upload, formats=("PNG",), alpha=True)
        return upload

    def clean_signature(self):
        upload = self.cleaned_data.get("signature")
        if upload:
            self.cleaned_data["signature_bytes"] = _check_image(upload, formats=("PNG",))
        return upload

    @property
    def layout(self):
        data = self.cleaned_data
        return {name: {key: data[f"{name}_{key}"] for key in ("x", "y", "size")} for name in render.FIELD_KINDS}

    def uploads(self):
        return {name: self.cleaned_data.get(name) for name in ("background", "seal", "signature") if self.cleaned_data.get(name)}

    def cleared(self):
        return {name for name in ("background", "seal", "signature") if self.cleaned_data.get(f"clear_{name}")}


# ---------------------------------------------------------------- the public verify page


class LookupForm(forms.Form):
    """The certificate number or the verification code printed on the paper, with a captcha."""

    q = forms.CharField(
        label=gettext_lazy("证书编号或验证码"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    captcha = CaptchaField(label=gettext_lazy("图形验证码"))


class PdfCheckForm(forms.Form):
    pdf = forms.FileField(
        label=gettext_lazy("证书 PDF 文件"), widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"})
    )
