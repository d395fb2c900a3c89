"""Instagram sandbox (Instagram API with Instagram Login): OAuth code → short-lived token →
long-lived token, token refresh, ``/me``, content_publishing_limit, REELS containers that fetch the
video from its URL over HTTP and take a few polls to finish, media_publish and media insights."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import httpx
from flask import Blueprint, jsonify, redirect, request, url_for

from webapp.integrations.sandboxes import _social_kit as kit

P = "instagram"
bp = Blueprint("sandbox_instagram", __name__)
V = "/<version>"


def _err(status: int, message: str, code: int, kind: str = "OAuthException"):
    return jsonify({"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "sandbox"}}), status


_FETCH: httpx.Client | None = None


def _fetcher() -> httpx.Client:
    """One client for fetching video URLs, as a platform keeps its connections (a client per fetch
    builds a TLS context each time)."""
    global _FETCH
    if _FETCH is None:
        _FETCH = httpx.Client(timeout=10)
    return _FETCH


def _user():
    return kit.verify(P, kit.bearer(), "access")


def _invalid_token():
    return _err(400, "Error validating access token: the session is invalid.", 190)


def _fault(step: str):
    mode = kit.take_fault(P, step)
    if mode == "rate_limit":
        return _err(429, "Application request limit reached", 4, "IGApiException"), mode
    if mode == "server":
        return _err(500, "An unexpected error has occurred. Please retry your request later.", 2), mode
    if mode == "error":
        return _err(400, "The media could not be processed.", 9004, "IGApiException"), mode
    return None, mode


@bp.post("/_control")
def control():
    return kit.control_view(P)


@bp.get("/oauth/authorize")
def authorize():
    hidden = {k: request.args.get(k, "") for k in ("client_id", "redirect_uri", "state", "scope")}
    return kit.consent_page(P, "Instagram", hidden=hidden, action=url_for(".consent"))


@bp.post("/oauth/authorize")
def consent():
    form = request.form
    target = form.get("redirect_uri", "")
    if form.get("decision") != "allow":
        return redirect(target + "?" + urlencode({"error": "access_denied", "state": form.get("state", "")}))
    code = kit.sign(
        P,
        {
            "kind": "code",
            "username": form.get("username") or "sandbox_creator",
            "redirect_uri": target,
            "exp": time.time() + 600,
        },
    )
    return redirect(target + "?" + urlencode({"code": code, "state": form.get("state", "")}))


def _access(username: str, ttl: int, kind: str = "access") -> str:
    return kit.sign(P, {"kind": kind, "username": username, "exp": time.time() + ttl})


@bp.post("/oauth/access_token")
def short_lived_token():
    form = request.form
    payload = kit.verify(P, form.get("code", ""), "code")
    if payload is None or payload.get("redirect_uri") != form.get("redirect_uri"):
        return jsonify(
            {"error_type": "OAuthException", "code": 400, "error_message": "Invalid authorization code"}
        ), 400
    kit.state(P).revoked.add(kit.token_digest(form["code"]))
    user_id = kit.account_id(P, payload["username"])
    return jsonify(
        {
            "access_token": _access(payload["username"], 3600),
            "user_id": user_id,
            "permissions": "instagram_business_basic,instagram_business_content_publish",
        }
    )


@bp.get("/access_token")
def long_lived_token():
    if request.args.get("grant_type") != "ig_exchange_token":
        return _err(400, "Unsupported grant_type", 100)
    user = kit.verify(P, request.args.get("access_token"), "access")
    if user is None:
        return _invalid_token()
    ttl = int(kit.state(P).counters.get("access_ttl", 5184000))
    return jsonify({"access_token": _access(user["username"], ttl), "token_type": "bearer", "expires_in": ttl})


@bp.get("/refresh_access_token")
def refresh_token():
    mode = kit.take_fault(P, "token")
    if mode == "server":
        return _err(500, "An unexpected error has occurred.", 2)
    user = kit.verify(P, request.args.get("access_token"), "access")
    if user is None or mode == "invalid_grant":
        return _invalid_token()
    ttl = int(kit.state(P).counters.get("access_ttl", 5184000))
    return jsonify({"access_token": _access(user["username"], ttl), "token_type": "bearer", "expires_in": ttl})


@bp.get(f"{V}/me")
def me(version):
    user = _user()
    if user is None:
        return _invalid_token()
    name = user["username"]
    return jsonify({"user_id": kit.account_id(P, name), "username": name, "id": kit.account_id(P, name)})


@bp.get(f"{V}/<ig_id>/content_publishing_limit")
def publishing_limit(version, ig_id):
    failed, _ = _fault("limit")
    if failed:
        return failed
    user = _user()
    if user is None:
        return _invalid_token()
    st = kit.state(P)
    with st.lock:
        used = sum(1 for p in st.posts.values() if p["username"] == user["username"] and p["at"] > time.time() - 86400)
        total = int(st.counters.get("quota_total", 100))
    return jsonify({"data": [{"quota_usage": used, "config": {"quota_total": total, "quota_duration": 86400}}]})


@bp.post(f"{V}/<ig_id>/media")
def create_container(version, ig_id):
    failed, _ = _fault("container")
    if failed:
        return failed
    user = _user()
    if user is None:
        return _invalid_token()
    form = request.form if request.form else (request.get_json(silent=True) or {})
    if form.get("media_type") != "REELS" or not form.get("video_url"):
        return _err(400, "media_type must be REELS with a video_url", 100, "IGApiException")
    # Instagram fetches the video from the URL it was given; so does the sandbox.
    try:
        fetched = _fetcher().get(form["video_url"])
        ok, size = fetched.status_code == 200, len(fetched.content)
    except httpx.HTTPError:
        ok, size = False, 0
    container_id = kit.new_post_id("179")
    st = kit.state(P)
    with st.lock:
        if len(form.get("caption", "")) > 2200:
            return _err(400, "The caption is longer than 2200 characters", 100, "IGApiException")
        st.uploads[container_id] = {
            "username": user["username"],
            "caption": form.get("caption", ""),
            "status": "IN_PROGRESS" if ok and size else "ERROR",
            "error": None if ok and size else "The video could not be downloaded from video_url",
            "polls": 0,
            # Processing takes at least ``processing_ms`` (0 unless set), and ``polls_to_finish`` checks.
            "ready_at": time.time() + int(st.counters.get("processing_ms", 0)) / 1000,
            "media_id": None,
            "bytes": size,
        }
    kit.log_call(P, "container", user["username"])
    return jsonify({"id": container_id})


@bp.get(f"{V}/<object_id>")
def container_status(version, object_id):
    if _user() is None:
        return _invalid_token()
    st = kit.state(P)
    with st.lock:
        item = st.uploads.get(object_id)
        if item is None:
            return _err(400, "Unsupported get request. Object does not exist.", 100, "GraphMethodException")
        if item["status"] == "IN_PROGRESS":
            item["polls"] += 1
            if item["polls"] >= int(st.counters.get("polls_to_finish", 3)) and time.time() >= item["ready_at"]:
                item["status"] = "FINISHED"
        body = {"id": object_id, "status_code": item["status"]}
        if item["status"] == "ERROR":
            body["status"] = f"Error: {item['error']}"
    return jsonify(body)


@bp.post(f"{V}/<ig_id>/media_publish")
def media_publish(version, ig_id):
    failed, mode = _fault("publish")
    if failed:
        return failed
    user = _user()
    if user is None:
        return _invalid_token()
    form = request.form if request.form else (request.get_json(silent=True) or {})
    st = kit.state(P)
    with st.lock:
        item = st.uploads.get(form.get("creation_id", ""))
        if item is None:
            return _err(400, "Invalid creation_id", 100, "IGApiException")
        if item["status"] == "PUBLISHED":
            return _err(400, "The media has already been published", 9007, "IGApiException")
        if item["status"] != "FINISHED":
            return _err(400, "Media ID is not available: the container is not finished", 9007, "IGApiException")
        media_id = kit.new_post_id("180")
        item["status"], item["media_id"] = "PUBLISHED", media_id
        st.posts[media_id] = {
            "username": user["username"],
            "caption": item["caption"],
            "at": time.time(),
            "comments": [],
        }
    kit.log_call(P, "publish", user["username"])
    if mode == "unknown":
        return _err(504, "Gateway timeout", 2)
    if mode == "timeout":
        time.sleep(float(st.counters.get("timeout_seconds", 3)))
    return jsonify({"id": media_id})


@bp.post(f"{V}/<media_id>/comments")
def create_comment(version, media_id):
    """``POST /{ig-media-id}/comments`` with ``message``: a comment by the account on its own media."""
    failed, mode = _fault("comment")
    if failed:
        return failed
    user = _user()
    if user is None:
        return _invalid_token()
    form = request.form if request.form else (request.get_json(silent=True) or {})
    message = form.get("message", "")
    if not message:
        return _err(400, "The parameter message is required", 100, "IGApiException")
    st = kit.state(P)
    with st.lock:
        post = st.posts.get(media_id)
        if post is None:
            return _err(400, "Unsupported post request. Object does not exist.", 100, "GraphMethodException")
        comment_id = kit.new_post_id("181")
        post.setdefault("comments", []).append({"id": comment_id, "message": message})
    kit.log_call(P, "comment", user["username"])
    if mode == "unknown":
        return _err(504, "Gateway timeout", 2)
    return jsonify({"id": comment_id})


@bp.get(f"{V}/<media_id>/insights")
def insights(version, media_id):
    failed, _ = _fault("metrics")
    if failed:
        return failed
    if _user() is None:
        return _invalid_token()
    m = kit.metrics_for(media_id)
    return jsonify({"data": [{"name": k, "period": "lifetime", "values": [{"value": v}]} for k, v in m.items()]})
