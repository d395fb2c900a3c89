"""Publishing benchmark: N posts due in the same minute, each to TikTok, Instagram and YouTube (the
built-in sandboxes, over real HTTP), worked by 2 RQ worker processes.

    .venv/bin/python bench/publish.py 50

Reports the time from the due moment to each target's completion (median, p95, max), per post (its
last target), beside the sandboxes' own minimum processing time (the floor: a TikTok upload and an
Instagram container take at least ``BENCH_PROCESSING_MS`` to process, 3,000 by default; YouTube
answers with the video at the last chunk), the machine's load average, how many RQ jobs ran and
for how long, and confirms every post was published exactly once on every platform.

Environment: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/tessera_bench_publish,
dropped and re-created), BENCH_REDIS_URL (default redis://127.0.0.1:6379/6, flushed), BENCH_WORKERS (2),
BENCH_PROCESSING_MS (3000), BENCH_POLL_MS (the status-check interval, 1000), BENCH_FORK (1: the workers
fork a process per job, RQ's default, instead of ``flask worker --no-fork``), BENCH_PROFILE (a path:
the workers run under cProfile and write ``<path>.0``, ``<path>.1`` as they stop).
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
    processing_ms = int(os.environ.get("BENCH_PROCESSING_MS", "3000"))
    poll_ms = int(os.environ.get("BENCH_POLL_MS", "1000"))
    fork = os.environ.get("BENCH_FORK", "") == "1"  # RQ's fork per job instead of `worker --no-fork`
    profile = os.environ.get("BENCH_PROFILE", "")  # a path: each worker runs under cProfile (<path>.<n>)
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

            update_setting("studio.poll_interval_ms", str(poll_ms), None)
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
                        [sys.executable]
                        + (["-m", "cProfile", "-o", f"{profile}.{i}"] if profile else [])
                        + ["-m", "flask", "--app", "wsgi.py", "worker", "--queues", "publishing"]
                        + ([] if fork else ["--no-fork"]),
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    )
                )
            time.sleep(3)

            due = (utcnow() + timedelta(seconds=8)).replace(microsecond=0)
            options = {  # a version per platform, as the composer saves them
                TIKTOK: {
                    "privacy_level": "PUBLIC_TO_EVERYONE",
                    "disable_comment": False,
                    "disable_duet": True,
                    "disable_stitch": True,
                    "caption": "Bench clip, the TikTok cut",
                    "hashtags": ["fyp", "bench"],
                },
                INSTAGRAM: {"share_to_feed": True, "first_comment": "First comment of the bench"},
                YOUTUBE: {"title": "Bench clip", "privacy": "public", "tags": ["bench", "benchmark"]},
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
            for platform in ("tiktok", "instagram"):  # the platforms' own processing time: the floor
                httpx.post(f"{sandbox_url}/sandbox/{platform}/_control", json={"set": {"processing_ms": processing_ms}})
            print(
                f"{n} posts x 3 platforms due at {due.isoformat()}, {workers} workers"
                f" ({'a fork per job' if fork else '--no-fork'}), status checks every {poll_ms} ms"
            )
            load_before = os.getloadavg()

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
            floor = processing_ms / 1000
            print(
                f"sandbox minimum processing time: TikTok {floor:.1f} s after the upload, Instagram {floor:.1f} s "
                "after the container (YouTube returns the video with the last chunk)"
            )
            load_after = os.getloadavg()
            print(
                "load average (1, 5, 15 min) before: "
                + ", ".join(f"{x:.2f}" for x in load_before)
                + "; after: "
                + ", ".join(f"{x:.2f}" for x in load_after)
                + f" ({os.cpu_count()} cores)"
            )
            _job_figures()
            if latencies:
                median = statistics.median(latencies)
                print(
                    f"due → target published: median {median:.2f} s, "
                    f"p95 {percentile(latencies, 95):.2f} s, max {max(latencies):.2f} s"
                    + (f" (median {median / floor:.1f}x the sandbox's floor of {floor:.1f} s)" if floor else "")
                )
                posts_l = list(per_post.values())
                print(
                    f"due → post fully published: median {statistics.median(posts_l):.2f} s, "
                    f"p95 {percentile(posts_l, 95):.2f} s"
                )
            reels = httpx.post(f"{sandbox_url}/sandbox/instagram/_control", json={"posts": True}, timeout=30).json()
            comments = sum(len(p.get("comments") or []) for p in reels["posts"].values())
            print(f"sandbox publishes: {counts}; Instagram first comments: {comments}; PublishedPost rows: {published}")
            exactly_once = (
                all(c == n for c in counts.values()) and published == 3 * n and len(done) == 3 * n and comments == n
            )
            print("exactly once: " + ("YES" if exactly_once else "NO"))
            return 0 if exactly_once else 1
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        server.shutdown()
        sandboxes.stop()


def _job_figures() -> None:
    """How many publishing jobs RQ ran and how long each took (from its finished registry)."""
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    from webapp.jobs.runner import get_queue

    queue = get_queue("publishing")
    ids = FinishedJobRegistry(queue=queue).get_job_ids()
    jobs = [j for j in Job.fetch_many(ids, connection=queue.connection) if j and j.started_at and j.ended_at]
    if not jobs:
        return
    runs = [(j.ended_at - j.started_at).total_seconds() * 1000 for j in jobs]
    waits = [(j.started_at - j.enqueued_at).total_seconds() * 1000 for j in jobs if j.enqueued_at]
    span = (max(j.ended_at for j in jobs) - min(j.started_at for j in jobs)).total_seconds()
    print(
        f"RQ publishing jobs: {len(jobs)} in {span:.1f} s ({len(jobs) / span:.1f}/s); run time median "
        f"{statistics.median(runs):.0f} ms, p95 {percentile(runs, 95):.0f} ms; queued → started median "
        f"{statistics.median(waits):.0f} ms, p95 {percentile(waits, 95):.0f} ms"
    )


if __name__ == "__main__":
    main_n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    sys.exit(main(main_n))
