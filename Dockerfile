FROM python:3.13-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DASHBOARD_VAR_DIR=/var/lib/dashboard
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dashboard ./dashboard
COPY steps ./steps
RUN pip install --no-cache-dir .
COPY . .
RUN mkdir -p /var/lib/dashboard && SECRET_KEY=build-only python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "dashboard.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-", "--logger-class", "dashboard.access_log.RedactingLogger"]
