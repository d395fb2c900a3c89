"""Studio settings (staff edit them in the console)."""

from webapp.settings import define
from webapp.studio.services import retention, timing  # noqa: F401  (they define their own settings)

define("studio.max_upload_mb", int, 512, "Largest video a creator may upload, in MB", minimum=1, maximum=4096)
define("studio.required_aspect", str, "9:16", "Aspect ratio every video must have (empty: any)")
define(
    "studio.aspect_tolerance_pct",
    int,
    2,
    "How far from the required aspect ratio a video may be, in %",
    minimum=0,
    maximum=20,
)
define("studio.min_duration_seconds", int, 3, "Shortest video accepted, in seconds", minimum=1)
define("studio.tiktok_max_seconds", int, 600, "Longest TikTok video (creator_info may lower it)", minimum=3)
define("studio.instagram_max_seconds", int, 900, "Longest Instagram Reel via the API", minimum=3)
define("studio.youtube_max_seconds", int, 180, "Longest YouTube Short", minimum=3)
define(
    "studio.missed_window_minutes", int, 60, "A target not started this long after its time is marked missed", minimum=1
)
define(
    "studio.stuck_active_minutes",
    int,
    30,
    "A target whose next step was queued for later is taken back by the lease sweeper this long after it was due",
    minimum=1,
)
define("studio.max_attempts", int, 5, "Attempts per target for errors that are safe to retry", minimum=1, maximum=20)
define("studio.retry_base_seconds", int, 30, "First retry delay; doubles each attempt, with jitter", minimum=0)
define("studio.max_polls", int, 30, "Status polls per target before giving up (polls are not attempts)", minimum=1)
define("studio.poll_interval_ms", int, 2000, "Pause between status polls, in milliseconds", minimum=0)
define("studio.tiktok_chunk_bytes", int, 10_000_000, "TikTok upload chunk size in bytes", minimum=65536)
define("studio.youtube_chunk_units", int, 32, "YouTube upload chunk size in units of 256 KiB", minimum=1)
define("studio.youtube_upload_cost", int, 1600, "Quota units a YouTube upload costs (Google has changed it)", minimum=0)
define("studio.youtube_call_cost", int, 1, "Quota units of other YouTube calls (videos.list…)", minimum=0)
define("studio.youtube_upload_quota", int, 10000, "Daily YouTube quota for uploads (Pacific day)", minimum=0)
define("studio.youtube_other_quota", int, 10000, "Daily YouTube quota for other calls (Pacific day)", minimum=0)
define("studio.metrics_sync_minutes", int, 60, "How often engagement figures are synced, in minutes", minimum=5)
define("studio.metrics_days", int, 30, "Sync figures of posts published in the last N days", minimum=1)
define("studio.http_timeout_seconds", int, 30, "Timeout of one call to a platform, in seconds", minimum=1, maximum=600)
