"""Publishing benchmark: N posts due in the same minute, each to TikTok, Instagram and YouTube (the
built-in sandboxes, over real HTTP), worked by 2 RQ worker processes.

    .venv/bin/python bench/publish.py 50

Reports the time from the due moment to each target's completion (median, p95, max), per post (its
last target), and confirms every post was published exactly once on every platform.

Environment: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/tessera_bench_publish,
dropped and re-created), BENCH_REDIS_URL (default redis://127.0.0.1:6379/6, flushed), BENCH_WORKERS (2).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _shared import free_port, percentile, recreate_database  # noqa: E402 (bench/ is the script's folder)


def main(n: int) -> int:
    database = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/tessera_bench_publish")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    port = free_port()
    instance = tempfile.mkdtemp(prefix="tessera-bench-")
    os.environ.update(
        DATABASE_URL=database,
        REDIS_URL=redis_url,
        BASE_URL=f"http://127.0.0.1:{port}",
        JOBS_BACKEND="rq",
        INSTANCE_PATH=instance,
        STORAGE_PATH=str(Path(instance) / "storage"),
        RATELIMIT_STORAGE_URI="memory://",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(free_port()),  # nobody listens: e-mail jobs fail quietly, they are not measured
    )
    if database.startswith("postgresql"):
        recreate_database(database)

    from flask_migrate import upgrade
    from redis import Redis
    from sqlalchemy import func, select
    from werkzeug.serving import make_server

    from tests.servers import start_sandboxes
    from webapp import create_app
    from webapp.core.models import utcnow
    from webapp.extensions import db

    Redis.from_url(redis_url).flushdb()
    # The platforms are their own process (their state in its memory), reached over HTTP.
    sandboxes, sandbox_url = start_sandboxes(
        Path(instance), database_url=f"sqlite:///{instance}/sandboxes.sqlite3", instance_path=Path(instance)
    )
    os.environ["SANDBOX_URL"] = sandbox_url
    app = create_app()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    procs = []
    try:
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"), revision="heads")
            from webapp.auth import services as accounts
            from webapp.orgs import services as orgs
            from webapp.settings.services import update_setting
            from webapp.studio.demo import _connection, _video
            from webapp.studio.jobs import claim_due_targets, publish_target
            from webapp.studio.models import INSTAGRAM, TIKTOK, YOUTUBE, Post, PublishedPost, PublishJob, Video
            from webapp.studio.services.videos import probe

            update_setting("studio.poll_interval_ms", "200", None)
            # the default 10,000 units allow 6 uploads a day (1,600 each); the benchmark measures publishing
            update_setting("studio.youtube_upload_quota", "100000000", None)
            user = accounts.sign_up("bench@example.com", "correct horse battery", "Bench")
            org = orgs.create_organization(user, "Bench", "bench-studio", user.email, "ZW", "Africa/Harare")
            conns = {p: _connection(org, user, p) for p in (TIKTOK, INSTAGRAM, YOUTUBE)}
            video = _video(org, user, "Bench clip", "testsrc", 5)
            db.session.flush()
            probe(video)
            assert video.status == Video.READY, video.failure_reason
            db.session.commit()

            env = dict(os.environ)
            for i in range(workers):
                log = (Path(instance) / f"worker{i}.log").open("w")
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "flask", "--app", "wsgi.py", "worker", "--queues", "publishing"],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    )
                )
            time.sleep(3)

            due = (utcnow() + timedelta(seconds=8)).replace(microsecond=0)
            options = {
                TIKTOK: {"privacy_level": "PUBLIC_TO_EVERYONE", "allow_comment": True},
                INSTAGRAM: {"share_to_feed": True},
                YOUTUBE: {"title": "Bench clip", "privacy": "public"},
            }
            for i in range(n):
                post = Post(
                    organization_id=org.id,
                    created_by_id=user.id,
                    video_id=video.id,
                    caption=f"Bench post {i}",
                    hashtags=["bench"],
                    scheduled_at=due,
                    timezone=org.timezone,
                    status=Post.SCHEDULED,
                )
                for platform, conn in conns.items():
                    post.targets.append(
                        PublishJob(
                            organization_id=org.id,
                            created_by_id=user.id,
                            platform=platform,
                            connection_id=conn.id,
                            options=options[platform],
                            status=PublishJob.PENDING,
                            scheduled_for=due,
                            due_at=due,
                        )
                    )
                db.session.add(post)
                db.session.flush()
                for job in post.targets:
                    publish_target.delay(job.id, at=due)  # RQ's scheduler path
            db.session.commit()
            print(f"{n} posts x 3 platforms due at {due.isoformat()}, {workers} workers")

            while utcnow() < due:
                time.sleep(0.05)
            claim_due_targets()  # what the every-minute cron does at the due minute
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                db.session.expire_all()
                open_count = db.session.scalar(
                    select(func.count(PublishJob.id)).where(
                        PublishJob.status.in_((PublishJob.PENDING, PublishJob.ACTIVE))
                    )
                )
                if open_count == 0:
                    break
                time.sleep(0.5)
            db.session.expire_all()
            jobs = db.session.scalars(select(PublishJob)).all()
            done = [j for j in jobs if j.status == PublishJob.COMPLETED]
            latencies = [(j.completed_at - due).total_seconds() for j in done]
            per_post: dict[int, float] = {}
            for j in done:
                per_post[j.post_id] = max(per_post.get(j.post_id, 0.0), (j.completed_at - due).total_seconds())
            published = db.session.scalar(select(func.count(PublishedPost.id)))
            counts = {
                p: httpx.post(f"{sandbox_url}/sandbox/{p}/_control", json={}, timeout=10).json()["published"]
                for p in ("tiktok", "instagram", "youtube")
            }
            statuses = {}
            for j in jobs:
                statuses[j.status] = statuses.get(j.status, 0) + 1
            print(f"targets: {statuses}")
            if latencies:
                print(
                    f"due → target published: median {statistics.median(latencies):.2f} s, "
                    f"p95 {percentile(latencies, 95):.2f} s, max {max(latencies):.2f} s"
                )
                posts_l = list(per_post.values())
                print(
                    f"due → post fully published: median {statistics.median(posts_l):.2f} s, "
                    f"p95 {percentile(posts_l, 95):.2f} s"
                )
            print(f"sandbox publishes: {counts}; PublishedPost rows: {published}")
            exactly_once = all(c == n for c in counts.values()) and published == 3 * n and len(done) == 3 * n
            print("exactly once: " + ("YES" if exactly_once else "NO"))
            return 0 if exactly_once else 1
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        server.shutdown()
        sandboxes.stop()


if __name__ == "__main__":
    main_n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    sys.exit(main(main_n))
