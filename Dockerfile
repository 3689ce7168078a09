# One image for web (granian), worker and beat; docker-compose.yml wires them.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# CJK fonts for certificates (W7): WenQuanYi Zen Hei, and HanaMin for rare characters; poppler-utils (pdftoppm)
# draws the certificate template editor's preview.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-zenhei fonts-hanazono gettext poppler-utils \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cme_portal ./cme_portal
COPY projects ./projects
COPY attendance ./attendance
COPY credits ./credits
COPY certificates ./certificates
RUN pip install .
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput \
 && useradd --create-home --uid 1000 cme \
 && mkdir -p /data/media && chown cme /data/media
USER cme

EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "--workers", "4", "--blocking-threads", "4", "cme_portal.wsgi:application"]
