"""YouTube sandbox: Google OAuth (refresh tokens that do not rotate and are returned only on first
consent), channels.list, resumable uploads (session URI, chunks in 256 KiB multiples, ``308 Resume
Incomplete`` with ``Range``, status query with ``Content-Range: bytes */total``), videos.list
statistics, and quotaExceeded / rateLimitExceeded errors on demand."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, redirect, request, url_for

from webapp.integrations.sandboxes import _social_kit as kit

P = "youtube"
bp = Blueprint("sandbox_youtube", __name__)
CHUNK_UNIT = 256 * 1024


def _err(status: int, reason: str, message: str):
    body = {"error": {"code": status, "message": message, "errors": [{"reason": reason, "message": message}]}}
    return jsonify(body), status


def _user():
    return kit.verify(P, kit.bearer(), "access")


def _unauthorized():
    return _err(401, "authError", "Request had invalid authentication credentials.")


def _fault(step: str):
    mode = kit.take_fault(P, step)
    if mode == "rate_limit":
        return _err(
            429, "rateLimitExceeded", "The request cannot be completed because you have exceeded your quota."
        ), mode
    if mode == "quota":
        return _err(403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota."), mode
    if mode == "server":
        return _err(503, "backendError", "Backend Error"), mode
    return None, mode


@bp.post("/_control")
def control():
    return kit.control_view(P)


@bp.get("/o/oauth2/v2/auth")
def authorize():
    hidden = {k: request.args.get(k, "") for k in ("client_id", "redirect_uri", "state", "scope", "code_challenge")}
    return kit.consent_page(P, "YouTube", hidden=hidden, action=url_for(".consent"))


@bp.post("/o/oauth2/v2/auth")
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
            "scope": form.get("scope", ""),
            "exp": time.time() + 600,
        },
    )
    return redirect(target + "?" + urlencode({"code": code, "state": form.get("state", "")}))


@bp.post("/token")
def token():
    form = request.form
    mode = kit.take_fault(P, "token")
    if mode == "server":
        return jsonify({"error": "internal_failure", "error_description": "Backend error"}), 503
    if mode == "invalid_grant":
        return jsonify({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}), 400
    st = kit.state(P)
    ttl = int(st.counters.get("access_ttl", 3599))
    if form.get("grant_type") == "authorization_code":
        payload = kit.verify(P, form.get("code", ""), "code")
        if payload is None or payload.get("redirect_uri") != form.get("redirect_uri"):
            return jsonify({"error": "invalid_grant", "error_description": "Malformed auth code."}), 400
        st.revoked.add(kit.token_digest(form["code"]))
        name = payload["username"]
        body = {
            "access_token": kit.sign(P, {"kind": "access", "username": name, "exp": time.time() + ttl}),
            "expires_in": ttl,
            "scope": payload.get("scope", ""),
            "token_type": "Bearer",
        }
        # Google returns a refresh token on first consent only; later consents omit it.
        with st.lock:
            seen = st.counters.setdefault("consented", [])
            if name not in seen:
                seen.append(name)
                body["refresh_token"] = kit.sign(P, {"kind": "refresh", "username": name, "exp": time.time() + 10**8})
        return jsonify(body)
    if form.get("grant_type") == "refresh_token":
        payload = kit.verify(P, form.get("refresh_token", ""), "refresh")
        if payload is None:
            return jsonify({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}), 400
        name = payload["username"]
        return jsonify(
            {
                "access_token": kit.sign(P, {"kind": "access", "username": name, "exp": time.time() + ttl}),
                "expires_in": ttl,
                "token_type": "Bearer",
            }
        )
    return jsonify({"error": "unsupported_grant_type"}), 400


@bp.post("/revoke")
def revoke():
    kit.state(P).revoked.add(kit.token_digest(request.values.get("token", "")))
    return jsonify({})


@bp.get("/youtube/v3/channels")
def channels():
    user = _user()
    if user is None:
        return _unauthorized()
    name = user["username"]
    channel = {"id": "UC" + kit.account_id(P, name), "snippet": {"title": name.title(), "customUrl": f"@{name}"}}
    return jsonify({"kind": "youtube#channelListResponse", "items": [channel]})


@bp.post("/upload/youtube/v3/videos")
def start_upload():
    failed, _ = _fault("session")
    if failed:
        return failed
    user = _user()
    if user is None:
        return _unauthorized()
    if request.args.get("uploadType") != "resumable":
        return _err(400, "badRequest", "uploadType must be resumable")
    try:
        total = int(request.headers.get("X-Upload-Content-Length", ""))
    except ValueError:
        return _err(400, "badRequest", "X-Upload-Content-Length is required")
    meta = request.get_json(silent=True) or {}
    session_id = kit.new_post_id("s")
    st = kit.state(P)
    with st.lock:
        st.uploads[session_id] = {
            "username": user["username"],
            "total": total,
            "received": 0,
            "meta": meta,
            "video": None,
        }
    kit.log_call(P, "session", user["username"])
    response = Response(status=200)
    response.headers["Location"] = (
        url_for(".upload_chunk", session_id=session_id, _external=True) + "?uploadType=resumable"
    )
    return response


def _incomplete(received: int) -> Response:
    response = Response(status=308)
    if received:
        response.headers["Range"] = f"bytes=0-{received - 1}"
    return response


@bp.put("/upload/youtube/v3/videos/<session_id>")
def upload_chunk(session_id: str):
    st = kit.state(P)
    with st.lock:
        item = st.uploads.get(session_id)
    if item is None:
        return _err(404, "notFound", "Upload session not found")
    header = request.headers.get("Content-Range", "")
    data = request.get_data()
    if header.startswith("bytes */"):  # what arrived?
        if item["video"]:
            return jsonify(item["video"]), 200
        return _incomplete(item["received"])
    try:
        span, total = header.removeprefix("bytes ").split("/")
        start, end = (int(x) for x in span.split("-"))
    except ValueError:
        return _err(400, "badRequest", "Content-Range must be 'bytes start-end/total'")
    if int(total) != item["total"] or start != item["received"] or end - start + 1 != len(data):
        return _err(400, "badRequest", f"expected bytes from {item['received']}")
    last = end + 1 == item["total"]
    if not last and len(data) % CHUNK_UNIT:
        return _err(400, "badRequest", "Chunk size must be a multiple of 256 KiB")
    mode = kit.take_fault(P, "chunk")
    if mode == "interrupt":
        # Half the chunk arrives, then the connection breaks (in 256 KiB units, as YouTube keeps them).
        with st.lock:
            item["received"] += (len(data) // 2) // CHUNK_UNIT * CHUNK_UNIT
        return _err(503, "backendError", "Connection interrupted")
    with st.lock:
        item["received"] = end + 1
        if last and item["video"] is None:
            vid = kit.new_post_id("yt")
            snippet = item["meta"].get("snippet") or {}
            item["video"] = {
                "kind": "youtube#video",
                "id": vid,
                "snippet": {
                    "title": snippet.get("title", ""),
                    "description": snippet.get("description", ""),
                    "tags": list(snippet.get("tags") or []),
                },
                "status": {"uploadStatus": "uploaded", **(item["meta"].get("status") or {})},
            }
            # What the channel received, for the tests: the whole snippet and status as sent.
            st.posts[vid] = {
                "username": item["username"],
                "title": snippet.get("title", ""),
                "snippet": snippet,
                "status": item["meta"].get("status") or {},
            }
    if last:
        kit.log_call(P, "publish", item["username"])
        if mode == "unknown":
            return _err(503, "backendError", "Backend Error")
        if mode == "timeout":
            time.sleep(float(st.counters.get("timeout_seconds", 3)))
        return Response(json.dumps(item["video"]), status=201, mimetype="application/json")
    return _incomplete(item["received"])


@bp.get("/youtube/v3/videos")
def videos_list():
    failed, _ = _fault("metrics")
    if failed:
        return failed
    if _user() is None:
        return _unauthorized()
    items = []
    for vid in (request.args.get("id") or "").split(",")[:50]:
        if not vid:
            continue
        m = kit.metrics_for(vid)
        stats = {"viewCount": str(m["views"]), "likeCount": str(m["likes"]), "commentCount": str(m["comments"])}
        items.append({"kind": "youtube#video", "id": vid, "statistics": stats})
    return jsonify({"kind": "youtube#videoListResponse", "items": items})
