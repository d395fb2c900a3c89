"""Live updates that cost no thread: server-sent events served from an asyncio event loop.

One ``StreamHub`` per web process holds every open stream of that process. It listens to Redis
pub/sub once (one PSUBSCRIBE for all users' channels, plus the stream-control channel) and fans
each message out to the streams of the user it names; a ticker sends the heartbeat, refreshes the
live-session rows and re-checks the unread counts of all its users in one query each (so a missed
message, or no Redis at all, costs at most one heartbeat of delay). Only short pieces of work —
reading the session cookie, opening and closing the row, rendering the badge — run in a worker
thread; an idle stream is a queue and a socket.

Each account may hold ``notifications.streams_per_user`` streams (across every process, counted in
Redis): opening one more closes the oldest with an ``event: closed`` whose tab then polls.
``webapp.asgi`` mounts ``StreamHub.handle`` at ``/notifications/stream`` beside the Flask app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from a2wsgi.wsgi import build_environ
from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError

from webapp.extensions import db
from webapp.jobs import namespace
from webapp.jobs.runner import async_redis_client
from webapp.notifications import live
from webapp.notifications import services as notes
from webapp.settings import get

log = logging.getLogger(__name__)
PATH = "/notifications/stream"
CLOSE = object()  # queue sentinel: end the stream


@dataclass
class Stream:
    id: str
    user_id: int
    session_id: int
    opened_at: float
    last_count: str
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)


class _EmptyBody:
    def read(self, size: int = -1) -> bytes:
        return b""

    def readline(self, limit: int = -1) -> bytes:
        return b""

    def readlines(self, hint: int = -1) -> list[bytes]:
        return []

    def __iter__(self):
        return iter(())


class StreamHub:
    def __init__(self, app: Flask):
        self.app = app
        self.streams: dict[str, Stream] = {}
        self.by_user: dict[int, set[str]] = defaultdict(set)
        self.redis: aioredis.Redis | None = None
        self.tasks: list[asyncio.Task] = []
        self.started = False
        with app.app_context():
            self.heartbeat = float(get("notifications.heartbeat_seconds"))
            self.cap = get("notifications.streams_per_user")
            self.poll_ms = get("notifications.poll_seconds") * 1000
            # This instance's names only (webapp/jobs/namespace.py): tessera:<instance>:…
            self.user_prefix = notes.user_channel(0)[:-1]  # "tessera:<instance>:notifications:user:"
            self.control_channel = namespace.key("streams", "control")
            self.key_prefix = namespace.key("streams", "")

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self.started:
            return
        self.started = True
        if self.app.extensions.get("tessera.redis") is not None:
            client = async_redis_client(self.app)
            try:
                await client.ping()
                self.redis = client
            except (RedisError, OSError):
                await client.aclose()
                log.warning("live streams: no Redis; counts refresh at each heartbeat only")
        if self.redis is not None:
            self.tasks.append(asyncio.create_task(self._listen()))
        self.tasks.append(asyncio.create_task(self._tick()))

    async def stop(self) -> None:
        for stream in list(self.streams.values()):
            stream.queue.put_nowait(CLOSE)
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.redis is not None:
            await self.redis.aclose()

    # ------------------------------------------------------------------ the endpoint

    async def handle(self, scope, receive, send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await _plain(send, 405, "Only GET opens a live stream.")
            return
        await self.start()  # servers without lifespan events start the hub on the first stream
        try:
            admitted = await asyncio.to_thread(self._admit, scope)
        except DBAPIError:
            log.warning("live streams: the database is unavailable; refusing a stream for now")
            await _plain(send, 503, "Live updates are unavailable for a moment.")
            return
        if admitted is None:
            # 204 tells EventSource to stop reconnecting: nobody is signed in on this page.
            await send({"type": "http.response.start", "status": 204, "headers": [(b"cache-control", b"no-store")]})
            await send({"type": "http.response.body", "body": b""})
            return
        viewer, session_id, count = admitted
        stream = Stream(secrets.token_hex(8), viewer.user_id, session_id, time.time(), count)
        self.streams[stream.id] = stream
        self.by_user[stream.user_id].add(stream.id)
        disconnected = asyncio.create_task(_wait_for_disconnect(receive))
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/event-stream; charset=utf-8"),
                        (b"cache-control", b"no-cache, no-store"),
                        (b"x-accel-buffering", b"no"),
                        (b"x-content-type-options", b"nosniff"),
                    ],
                }
            )
            opening = f"retry: 5000\n: live session {viewer.client_id}\n\n" + live.sse("count", count)
            await send({"type": "http.response.body", "body": opening.encode(), "more_body": True})
            await self._enforce_cap(stream)
            while True:
                getter = asyncio.create_task(stream.queue.get())
                done, _ = await asyncio.wait({getter, disconnected}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                item = getter.result()
                if item is CLOSE:
                    break
                await send({"type": "http.response.body", "body": item.encode(), "more_body": True})
        except OSError:
            pass  # the client went away mid-write
        finally:
            disconnected.cancel()
            self._forget(stream)
            if self.redis is not None:
                with contextlib.suppress(RedisError, OSError):
                    await self.redis.zrem(self._user_key(stream.user_id), stream.id)
            await asyncio.to_thread(self._close_row, stream.session_id)
            with contextlib.suppress(OSError, RuntimeError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    # ------------------------------------------------------------------ thread-side work (Flask, SQL)

    def _admit(self, scope):
        # a2wsgi types the body as its own Body class and the environ as a TypedDict; it only stores
        # the body as wsgi.input, and Flask takes any environ dict.
        environ = build_environ(scope, _EmptyBody())  # type: ignore[arg-type]
        with self.app.request_context(environ):  # type: ignore[arg-type]
            viewer = live.viewer_of_request()
        if viewer is None:
            return None
        with self.app.app_context():
            row = live.open_session(viewer.user_id, viewer.org_id, viewer.client_id, viewer.user_agent)
            session_id = row.id
            db.session.commit()
            return viewer, session_id, live.count_html(viewer.user_id)

    def _close_row(self, session_id: int) -> None:
        with self.app.app_context():
            live.close_session(session_id)
            db.session.commit()

    def _counts(self, user_ids: list[int]) -> dict[int, str]:
        with self.app.app_context():
            counts = notes.unread_counts(user_ids)
            return {user_id: live.count_html(user_id, unread) for user_id, unread in counts.items()}

    def _heartbeat_rows(self, session_ids: list[int], user_ids: list[int]) -> dict[int, str]:
        with self.app.app_context():
            live.touch_many(session_ids)
            db.session.commit()
        return self._counts(user_ids)

    # ------------------------------------------------------------------ fan-out

    def _push(self, user_id: int, chunk: str) -> None:
        for stream_id in list(self.by_user.get(user_id, ())):
            stream = self.streams.get(stream_id)
            if stream is not None:
                stream.queue.put_nowait(chunk)

    def _push_count(self, user_id: int, html: str) -> None:
        for stream_id in list(self.by_user.get(user_id, ())):
            stream = self.streams.get(stream_id)
            if stream is not None and stream.last_count != html:
                stream.last_count = html
                stream.queue.put_nowait(live.sse("count", html))

    def _close(self, stream_id: str, reason: str) -> None:
        stream = self.streams.get(stream_id)
        if stream is not None:
            stream.queue.put_nowait(live.sse("closed", reason))
            stream.queue.put_nowait(CLOSE)

    def _forget(self, stream: Stream) -> None:
        self.streams.pop(stream.id, None)
        ids = self.by_user.get(stream.user_id)
        if ids is not None:
            ids.discard(stream.id)
            if not ids:
                self.by_user.pop(stream.user_id, None)

    async def _on_user_message(self, user_id: int, data) -> None:
        if user_id not in self.by_user:
            return
        try:
            payload = json.loads(data)
        except (TypeError, ValueError):
            payload = {}
        html = (await asyncio.to_thread(self._counts, [user_id]))[user_id]
        self._push_count(user_id, html)
        if payload.get("kind") == "notification":
            event = json.dumps({"id": payload.get("id"), "title": payload.get("title")})
            self._push(user_id, live.sse("notification", event))

    async def _listen(self) -> None:
        redis = self.redis
        if redis is None:  # started only with Redis; without it each process pushes its own counts
            return
        while True:
            pubsub = redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(self.user_prefix + "*")
                await pubsub.subscribe(self.control_channel)
                async for message in pubsub.listen():
                    channel = message["channel"].decode()
                    if message["type"] == "pmessage":
                        with contextlib.suppress(ValueError):
                            await self._on_user_message(int(channel.rsplit(":", 1)[1]), message["data"])
                    elif message["type"] == "message" and channel == self.control_channel:
                        order = json.loads(message["data"])
                        self._close(order.get("close", ""), order.get("reason", ""))
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis went away: heartbeats keep counts right; listen again shortly.
                log.warning("live streams: lost Redis pub/sub; retrying", exc_info=True)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            streams = list(self.streams.values())
            if not streams:
                continue
            for stream in streams:
                stream.queue.put_nowait(": heartbeat\n\n")
            try:
                counts = await asyncio.to_thread(
                    self._heartbeat_rows, [s.session_id for s in streams], list(self.by_user)
                )
            except Exception:  # the database is away: the streams stay open and retry next beat
                log.warning("live streams: heartbeat could not reach the database", exc_info=True)
                counts = {}
            for user_id, html in counts.items():
                self._push_count(user_id, html)
            if self.redis is not None:
                with contextlib.suppress(RedisError, OSError):
                    async with self.redis.pipeline(transaction=False) as pipe:
                        for stream in streams:
                            pipe.set(self._alive_key(stream.id), 1, ex=int(self.heartbeat * 3))
                        await pipe.execute()

    # ------------------------------------------------------------------ the cap

    def _user_key(self, user_id: int) -> str:
        return f"{self.key_prefix}user:{user_id}"

    def _alive_key(self, stream_id: str) -> str:
        return f"{self.key_prefix}alive:{stream_id}"

    async def _enforce_cap(self, stream: Stream) -> None:
        """Keep at most ``cap`` streams per account: the oldest ones beyond it are told to close."""
        reason = live.CAPPED_MESSAGE.format(cap=self.cap)
        if self.redis is None:
            mine = sorted((self.streams[i] for i in self.by_user[stream.user_id]), key=lambda s: s.opened_at)
            for old in mine[: max(0, len(mine) - self.cap)]:
                self._close(old.id, reason)
            return
        key, ttl = self._user_key(stream.user_id), int(self.heartbeat * 3)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(self._alive_key(stream.id), 1, ex=ttl)
                pipe.zadd(key, {stream.id: stream.opened_at})
                pipe.expire(key, 86400)
                pipe.zrange(key, 0, -1)
                members = [m.decode() for m in (await pipe.execute())[-1]]
            async with self.redis.pipeline(transaction=False) as pipe:
                for member in members:
                    pipe.exists(self._alive_key(member))
                alive = [m for m, up in zip(members, await pipe.execute(), strict=True) if up]
            gone = set(members) - set(alive)  # streams of a process that died without closing them
            if gone:
                await self.redis.zrem(key, *gone)
            for old in alive[: max(0, len(alive) - self.cap)]:
                await self.redis.zrem(key, old)
                await self.redis.publish(self.control_channel, json.dumps({"close": old, "reason": reason}))
        except (RedisError, OSError):
            log.warning("live streams: could not count this account's streams in Redis", exc_info=True)


async def _wait_for_disconnect(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _plain(send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": text.encode()})
