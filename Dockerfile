# One image for the API, the worker, Flower and migrations (docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# Runtime dependencies only (no test or lint tools), each checked against its hash.
COPY requirements.txt .
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
COPY . .
RUN useradd --system --uid 10001 orderly
USER orderly
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "web:create_app()"]
