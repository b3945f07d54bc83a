"""The bare pipeline's API (gunicorn 'bench.bare.app:app'): insert a job row,
publish a task without confirms, answer 202; read a job back; a trivial JSON
endpoint for the bare Flask floor."""

from __future__ import annotations

import uuid

from flask import Flask, Response, jsonify, request

from bench.bare import db
from bench.bare.worker import apply

app = Flask(__name__)


@app.get("/ping")
def ping() -> Response:
    return jsonify({"status": "ok"})


@app.post("/jobs")
def post_job() -> tuple[Response, int]:
    body = request.get_json()
    job_id, order_id = uuid.uuid4(), body.get("order_id") or str(uuid.uuid4())
    db.connection(autocommit=True).execute(
        "INSERT INTO bare_jobs (id, order_id, command, expected_version) VALUES (%s, %s, %s, %s)",
        (job_id, order_id, body["command"], body.get("version", 0)),
    )
    apply.apply_async(args=[str(job_id)])
    return jsonify({"id": str(job_id), "order_id": order_id, "status": "queued"}), 202


@app.get("/jobs/<uuid:job_id>")
def get_job(job_id: uuid.UUID) -> Response | tuple[Response, int]:
    row = (
        db.connection(autocommit=True)
        .execute("SELECT order_id, status FROM bare_jobs WHERE id = %s", (job_id,))
        .fetchone()
    )
    if row is None:
        return jsonify({"error": "not found"}), 404
    return jsonify({"id": str(job_id), "order_id": str(row[0]), "status": row[1]})
