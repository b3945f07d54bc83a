"""The bare pipeline's worker: `celery -A bench.bare.worker worker` (prefork)."""

from __future__ import annotations

from celery import Celery

from bench.bare import db

app = Celery("bare", broker=db.BROKER_URL)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_default_queue="bare.commands",
)

NEXT = {"create": "pending", "pay": "paid", "ship": "shipped", "deliver": "delivered"}


@app.task(name="bare.apply")
def apply(job_id: str) -> None:
    """One optimistic-locked write on the order, the job update, a cache DEL."""
    conn = db.connection(autocommit=False)
    with conn.transaction():
        order_id, command, version = conn.execute(
            "SELECT order_id, command, expected_version FROM bare_jobs WHERE id = %s", (job_id,)
        ).fetchone()
        # Insert at version 1 (create) or compare-and-set the version (others).
        written = conn.execute(
            "INSERT INTO bare_orders (id, status, version) VALUES (%s, %s, 1) "
            "ON CONFLICT (id) DO UPDATE SET status = excluded.status, version = bare_orders.version + 1 "
            "WHERE bare_orders.version = %s",
            (order_id, NEXT[command], version),
        )
        if written.rowcount != 1:  # checked, as Orderly checks its own
            raise RuntimeError(f"bare job {job_id}: the compare-and-set matched no row")
        conn.execute("UPDATE bare_jobs SET status = 'succeeded', finished_at = now() WHERE id = %s", (job_id,))
    # The app's Redis user may only touch orderly:* keys.
    db.redis_client().delete(f"orderly:bare:order:{order_id}")


@app.task(name="bare.noop")
def noop() -> None:
    """The Celery floor: a task that does nothing."""
