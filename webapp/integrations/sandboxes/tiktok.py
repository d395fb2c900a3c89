"""TikTok sandbox: Login Kit OAuth (rotating refresh tokens), user info, Content Posting API Direct
Post (creator_info/query, video/init with FILE_UPLOAD, chunked PUT with Content-Range,
status/fetch) and video/query metrics. Faults: ``POST /_control`` (see ``webapp.integrations.sandboxes._social_kit``).
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from flask import Blueprint, jsonify, redirect, request, url_for

from webapp.integrations.sandboxes import _social_kit as kit

P = "tiktok"
bp = Blueprint("sandbox_tiktok", __name__)
PRIVACY = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]


def _err(status: int, code: str, message: str):
    return jsonify({"data": {}, "error": {"code": code, "message": message, "log_id": "sandbox"}}), status


def _ok(data: dict):
    return jsonify({"data": data, "error": {"code": "ok", "message": "", "log_id": "sandbox"}})


def _fault(step: str):
    """Answer a switched-on fault that happens before any work; return (response, mode)."""
    mode = kit.take_fault(P, step)
    if mode == "rate_limit":
        return _err(429, "rate_limit_exceeded", "Too many requests"), mode
    if mode == "server":
        return _err(500, "internal_error", "Something went wrong"), mode
    if mode == "error":
        return _err(400, "invalid_params", "The request was refused"), mode
    return None, mode


def _user():
    payload = kit.verify(P, kit.bearer(), "access")
    return payload


@bp.post("/_control")
def control():
    return kit.control_view(P)


@bp.get("/v2/auth/authorize/")
def authorize():
    args = request.args
    hidden = {k: args.get(k, "") for k in ("client_key", "redirect_uri", "state", "scope", "code_challenge")}
    return kit.consent_page(P, "TikTok", hidden=hidden, action=url_for(".consent"))


@bp.post("/v2/auth/authorize/")
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
            "challenge": form.get("code_challenge", ""),
            "scope": form.get("scope", ""),
            "exp": time.time() + 600,
        },
    )
    return redirect(
        target + "?" + urlencode({"code": code, "state": form.get("state", ""), "scopes": form.get("scope", "")})
    )


def _tokens(username: str, scope: str):
    st = kit.state(P)
    access_ttl = int(st.counters.get("access_ttl", 86400))
    refresh_ttl = int(st.counters.get("refresh_ttl", 31536000))
    now = time.time()
    return {
        "open_id": kit.account_id(P, username),
        "scope": scope,
        "access_token": kit.sign(P, {"kind": "access", "username": username, "exp": now + access_ttl}),
        "expires_in": access_ttl,
        "refresh_token": kit.sign(
            P, {"kind": "refresh", "username": username, "scope": scope, "exp": now + refresh_ttl}
        ),
        "refresh_expires_in": refresh_ttl,
        "token_type": "Bearer",
    }


@bp.post("/v2/oauth/token/")
def token():
    form = request.form
    mode = kit.take_fault(P, "token")
    if mode == "server":
        return jsonify({"error": "server_error", "error_description": "Try again later"}), 503
    if mode == "timeout":
        time.sleep(float(kit.state(P).counters.get("timeout_seconds", 3)))
    if mode == "invalid_grant":
        return jsonify({"error": "invalid_grant", "error_description": "Refresh token is invalid or expired"}), 400
    grant = form.get("grant_type")
    if grant == "authorization_code":
        code = form.get("code", "")
        payload = kit.verify(P, code, "code")
        if payload is None or payload.get("redirect_uri") != form.get("redirect_uri"):
            return jsonify({"error": "invalid_grant", "error_description": "Authorization code is invalid"}), 400
        kit.state(P).revoked.add(kit.token_digest(code))  # a code is used once
        kit.log_call(P, "token.code", payload["username"])
        return jsonify(_tokens(payload["username"], payload.get("scope", "")))
    if grant == "refresh_token":
        old = form.get("refresh_token", "")
        st = kit.state(P)
        with st.lock:
            payload = kit.verify(P, old, "refresh")
            if payload is None:
                return jsonify(
                    {"error": "invalid_grant", "error_description": "Refresh token is invalid or expired"}
                ), 400
            st.revoked.add(kit.token_digest(old))  # TikTok rotates: the old refresh token stops working
        kit.log_call(P, "token.refresh", payload["username"])
        return jsonify(_tokens(payload["username"], payload.get("scope", "")))
    return jsonify({"error": "unsupported_grant_type", "error_description": grant or ""}), 400


@bp.post("/v2/oauth/revoke/")
def revoke():
    token = request.form.get("token", "")
    kit.state(P).revoked.add(kit.token_digest(token))
    return jsonify({})


@bp.get("/v2/user/info/")
def user_info():
    user = _user()
    if user is None:
        return _err(401, "access_token_invalid", "The access token is invalid or not found in the request.")
    name = user["username"]
    return _ok({"user": {"open_id": kit.account_id(P, name), "username": name, "display_name": name.title()}})


@bp.post("/v2/post/publish/creator_info/query/")
def creator_info():
    failed, _ = _fault("creator_info")
    if failed:
        return failed
    user = _user()
    if user is None:
        return _err(401, "access_token_invalid", "The access token is invalid or not found in the request.")
    kit.log_call(P, "creator_info", user["username"])
    return _ok(
        {
            "creator_username": user["username"],
            "creator_nickname": user["username"].title(),
            "privacy_level_options": PRIVACY,
            "comment_disabled": False,
            "duet_disabled": False,
            "stitch_disabled": True,
            "max_video_post_duration_sec": int(kit.state(P).counters.get("max_duration", 600)),
        }
    )


@bp.post("/v2/post/publish/video/init/")
def video_init():
    failed, _ = _fault("init")
    if failed:
        return failed
    user = _user()
    if user is None:
        return _err(401, "access_token_invalid", "The access token is invalid or not found in the request.")
    body = request.get_json(silent=True) or {}
    post_info, source = body.get("post_info") or {}, body.get("source_info") or {}
    if post_info.get("privacy_level") not in PRIVACY:
        return _err(400, "invalid_params", "privacy_level must be one of the creator's options")
    if len((post_info.get("title") or "").encode("utf-16-le")) // 2 > 2200:
        return _err(400, "invalid_params", "title is longer than 2200 characters")
    for flag in ("disable_comment", "disable_duet", "disable_stitch"):
        if flag in post_info and not isinstance(post_info[flag], bool):
            return _err(400, "invalid_params", f"{flag} must be a boolean")
    if source.get("source") != "FILE_UPLOAD":
        return _err(400, "invalid_params", "source must be FILE_UPLOAD in this sandbox")
    size, chunk, count = (int(source.get(k) or 0) for k in ("video_size", "chunk_size", "total_chunk_count"))
    if size <= 0 or chunk <= 0 or count != max(1, size // chunk) or chunk > size:
        return _err(400, "invalid_params", "video_size, chunk_size and total_chunk_count do not agree")
    publish_id = "v_pub_file~" + kit.new_post_id("")
    st = kit.state(P)
    with st.lock:
        st.uploads[publish_id] = {
            "username": user["username"],
            "size": size,
            "received": 0,
            "post_info": post_info,
            "status": "PROCESSING_UPLOAD",
            "polls": 0,
            "post_id": None,
        }
    kit.log_call(P, "init", user["username"])
    return _ok({"publish_id": publish_id, "upload_url": url_for(".upload", publish_id=publish_id, _external=True)})


@bp.put("/upload/<publish_id>")
def upload(publish_id: str):
    st = kit.state(P)
    mode = kit.take_fault(P, "upload")
    if mode == "server":
        return _err(500, "internal_error", "Upload failed")
    with st.lock:
        item = st.uploads.get(publish_id)
    if item is None:
        return _err(404, "invalid_publish_id", "Unknown upload")
    header = request.headers.get("Content-Range", "")
    try:
        unit, rest = header.split(" ", 1)
        span, total_text = rest.split("/")
        start, end = (int(x) for x in span.split("-"))
        total = int(total_text)
    except ValueError:
        return _err(400, "invalid_params", "Content-Range must be 'bytes start-end/total'")
    data = request.get_data()
    if unit != "bytes" or total != item["size"] or start != item["received"] or end - start + 1 != len(data):
        return _err(416, "range_not_satisfiable", f"expected bytes from {item['received']}")
    with st.lock:
        item["received"] = end + 1
        complete = item["received"] == item["size"]
        if complete:
            # The irreversible moment: the upload is complete, TikTok will publish it.
            item["status"] = "PROCESSING_DOWNLOAD"
            item["ready_at"] = time.time() + int(st.counters.get("processing_ms", 0)) / 1000
            item["post_id"] = kit.new_post_id("73")
            st.posts[item["post_id"]] = {
                "username": item["username"],
                "title": item["post_info"].get("title", ""),
                "post_info": item["post_info"],  # as sent to video/init, for the tests
            }
    if complete:
        kit.log_call(P, "publish", item["username"])
    if mode == "unknown":
        return _err(504, "gateway_timeout", "Upstream timed out")
    if mode == "timeout":
        time.sleep(float(st.counters.get("timeout_seconds", 3)))
    return ("", 201) if complete else ("", 206)


@bp.post("/v2/post/publish/status/fetch/")
def status_fetch():
    user = _user()
    if user is None:
        return _err(401, "access_token_invalid", "The access token is invalid or not found in the request.")
    publish_id = (request.get_json(silent=True) or {}).get("publish_id")
    st = kit.state(P)
    with st.lock:
        item = st.uploads.get(publish_id)
        if item is None:
            return _err(400, "invalid_publish_id", "Unknown publish_id")
        data = {"status": item["status"], "uploaded_bytes": item["received"]}
        if item["status"] == "PROCESSING_DOWNLOAD":
            item["polls"] += 1
            if kit.take_fault(P, "processing") == "error":
                item["status"] = "FAILED"
                item["fail_reason"] = "video_pull_failed"
            elif item["polls"] >= int(st.counters.get("polls_to_finish", 2)) and time.time() >= item["ready_at"]:
                item["status"] = "PUBLISH_COMPLETE"
        data["status"] = item["status"]
        if item["status"] == "PUBLISH_COMPLETE":
            data["publicaly_available_post_id"] = [item["post_id"]]
        if item["status"] == "FAILED":
            data["fail_reason"] = item.get("fail_reason", "unknown")
    return _ok(data)


@bp.post("/v2/video/query/")
def video_query():
    failed, _ = _fault("metrics")
    if failed:
        return failed
    if _user() is None:
        return _err(401, "access_token_invalid", "The access token is invalid or not found in the request.")
    ids = ((request.get_json(silent=True) or {}).get("filters") or {}).get("video_ids") or []
    videos = []
    for vid in ids[:20]:
        m = kit.metrics_for(vid)
        videos.append(
            {
                "id": vid,
                "view_count": m["views"],
                "like_count": m["likes"],
                "comment_count": m["comments"],
                "share_count": m["shares"],
            }
        )
    return _ok({"videos": videos, "cursor": 0, "has_more": False})
