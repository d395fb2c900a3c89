"""Studio's rules: videos, posts and scheduling, publishing, YouTube quota, engagement metrics."""
