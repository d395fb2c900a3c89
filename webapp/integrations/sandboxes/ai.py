"""Sandbox of an OpenAI-compatible chat-completions API, answering deterministically from the prompt.

- A system prompt asking for a workflow as JSON gets a draft built from the words of the request
  (triggers such as "when a video is ready", steps such as "post to slack", "e-mail", "open a ticket").
- A prompt about a caption gets ``{"caption": …, "hashtags": […]}`` built from the video's title.
- A prompt to propose tasks gets ``{"tasks": […]}``, one per clause of the goal, assigned round-robin
  to the members listed, due 3, 6, 9… days out.
- A document prompt (``key_dates``) gets the document's first sentences as the summary, its ISO and
  written dates, its money amounts, and a task per bullet or "TODO:" line.
- A daily-digest prompt gets ``{"headline": …, "order": [ids]}``: failures and overdue items first.
- A project-status or workflow run-history prompt gets a narrative that restates the figures given.
- Anything else gets a short, stable answer that quotes the question.
Usage counts are ~4 characters per token. ``[sandbox:fail]`` in a prompt answers 500, ``[sandbox:slow]``
sleeps half a second, for tests of refunds and concurrency, ``[sandbox:hang]`` two and a half (past a
short client timeout); ``[sandbox:badjson]`` answers text that is not JSON and ``[sandbox:wrongshape]``
JSON of the wrong shape, for tests of the checks on the answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import time

from flask import Blueprint, current_app, jsonify, request

bp = Blueprint("sandbox_ai", __name__)

PLATFORMS = ("tiktok", "instagram", "youtube")


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _error(status: int, message: str, kind: str, code: str | None = None):
    return jsonify({"error": {"message": message, "type": kind, "code": code}}), status


def _request_text(system: str, user: str) -> str:
    """The part of the user's message that describes what they want (after 'Request:' if present)."""
    match = re.search(r"request:\s*(.+)", user, re.I | re.S)
    return (match.group(1) if match else user).strip()


def _trigger(text: str) -> dict:
    t = text.lower()
    if "video" in t and "ready" in t:
        return {"type": "event", "event": "video.ready"}
    if "overdue" in t:
        return {"type": "event", "event": "invoice.overdue"}
    if "post" in t and "fail" in t:
        return {"type": "event", "event": "post.failed"}
    if "published" in t:
        return {"type": "event", "event": "post.published"}
    if "payment" in t or "paid" in t:
        return {"type": "event", "event": "payment.received"}
    if "invoice" in t and "issued" in t:
        return {"type": "event", "event": "invoice.issued"}
    if "connection" in t and "expire" in t:
        return {"type": "event", "event": "connection.expired"}
    if "ticket" in t and ("opened" in t or "new ticket" in t):
        return {"type": "event", "event": "ticket.opened"}
    if "monday" in t or "weekly" in t or "every week" in t:
        return {"type": "schedule", "cron": "0 9 * * 1"}
    if "daily" in t or "every day" in t or "every morning" in t:
        return {"type": "schedule", "cron": "0 8 * * *"}
    if "hourly" in t or "every hour" in t:
        return {"type": "schedule", "cron": "0 * * * *"}
    if "webhook" in t and ("receive" in t or "incoming" in t or "inbound" in t):
        return {"type": "webhook"}
    return {"type": "manual"}


def _steps(text: str, trigger: dict) -> list[dict]:
    t = text.lower()
    steps = []
    wait = re.search(r"wait (\d{1,4}) ?(minute|min|hour)", t)
    platforms = [p for p in PLATFORMS if p in t]
    if platforms or "all platforms" in t:
        steps.append(
            {
                "type": "schedule_post",
                "name": "Schedule the post",
                "config": {
                    "video_id": "{{ trigger.video_id }}",
                    "platforms": platforms or list(PLATFORMS),
                    "caption": "{{ trigger.title | default('New video') }}",
                    "hashtags": "",
                    "delay_minutes": 0,
                },
            }
        )
    if wait:
        minutes = int(wait.group(1)) * (60 if wait.group(2) == "hour" else 1)
        steps.append({"type": "wait", "name": "Wait", "config": {"minutes": min(minutes, 10080)}})
    if "slack" in t or "http" in t or ("webhook" in t and trigger["type"] != "webhook") or "call " in t:
        steps.append(
            {
                "type": "http_request",
                "name": "Send to chat",
                "credential": "chat",
                "config": {
                    "method": "POST",
                    "url": "https://hooks.example.com/services/tessera",
                    "headers": "",
                    "body": '{"text": "Tessera: {{ trigger.event | default(\'workflow run\') }}"}',
                },
            }
        )
    if "e-mail" in t or "email" in t:
        address = re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text)
        steps.append(
            {
                "type": "send_email",
                "name": "E-mail",
                "config": {
                    "to": address.group(0) if address else "team@example.com",
                    "subject": "Tessera: {{ trigger.event | default('workflow run') }}",
                    "body": "Something happened in Tessera.\n\n{{ trigger | json }}",
                },
            }
        )
    if "ticket" in t and trigger.get("event") != "ticket.opened":
        steps.append(
            {
                "type": "create_ticket",
                "name": "Open a ticket",
                "config": {
                    "subject": "Automatic ticket: {{ trigger.event | default('workflow') }}",
                    "description": "Opened by a workflow.\n\n{{ trigger | json }}",
                    "priority": "HIGH",
                },
            }
        )
    if "notify" in t or "tell the team" in t or "let the team know" in t or not steps:
        steps.append(
            {
                "type": "notify_members",
                "name": "Notify the team",
                "config": {
                    "roles": ["OWNER", "ADMIN"],
                    "title": "Workflow: {{ trigger.event | default('run') }}",
                    "message": "",
                    "link": "",
                },
            }
        )
    return steps


def _draft(text: str) -> dict:
    trigger = _trigger(text)
    steps = _steps(text, trigger)
    words = [w for w in re.findall(r"[A-Za-z]+", text)][:6]
    name = " ".join(words).capitalize() or "Drafted workflow"
    draft = {"name": name[:80], "trigger": trigger, "steps": steps}
    if any(s.get("credential") for s in steps):
        draft["credentials"] = {"chat": {"kind": "bearer", "label": "Chat webhook token"}}
    return draft


def _caption(text: str) -> dict:
    title = re.search(r"title:\s*(.+)", text, re.I)
    base = (title.group(1).splitlines()[0] if title else text).strip()[:120]
    words = [w.lower() for w in re.findall(r"[A-Za-z]{4,}", base)][:4]
    hashtags = ["#" + w for w in words] + ["#tessera", "#shorts"]
    return {"caption": f"{base} — watch till the end!", "hashtags": hashtags[:6]}


def _chat(text: str) -> str:
    digest = int(hashlib.sha256(text.encode()).hexdigest()[:4], 16)
    tips = [
        "Check the workflow run log: each step shows its status, output and error.",
        "Invoices move from DRAFT to ISSUED when finalized; payments are applied by reference.",
        "Schedule posts in your organization's time zone; the studio publishes them on time.",
        "AI credits are reserved before each request and refunded if it fails.",
    ]
    return f"You asked: “{text[:200]}”. {tips[digest % len(tips)]}"


MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]


def _field(text: str, name: str) -> str:
    match = re.search(rf"^{name}:\s*(.*)$", text, re.I | re.M)
    return match.group(1).strip() if match else ""


def _proposed_tasks(user: str) -> dict:
    goal = _field(user, "goal") or user.strip()
    members = [m.strip() for m in _field(user, "members").split(",") if m.strip()]
    clauses = [c.strip(" .") for c in re.split(r"[,;\n]|\band then\b|\band\b", goal) if len(c.strip(" .")) > 2]
    tasks = []
    for number, clause in enumerate(clauses[:8], 1):
        tasks.append(
            {
                "title": clause[:1].upper() + clause[1:120],
                "description": f"Part of: {goal[:300]}",
                "due_in_days": 3 * number,
                "assignee": members[(number - 1) % len(members)] if members else "",
            }
        )
    return {"tasks": tasks or [{"title": "Plan the work", "description": goal[:300], "due_in_days": 7, "assignee": ""}]}


def _document(user: str) -> dict:
    match = re.search(r"document:\s*(.+)", user, re.I | re.S)
    text = (match.group(1) if match else user).strip()
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    dates = []
    for found in re.finditer(r"\b(\d{4}-\d{2}-\d{2})\b", text):
        dates.append({"date": found.group(1), "what": _around(text, found)})
    for found in re.finditer(rf"\b(\d{{1,2}}) ({'|'.join(MONTHS)}) (\d{{4}})\b", text, re.I):
        day, month, year = int(found.group(1)), MONTHS.index(found.group(2).lower()) + 1, found.group(3)
        dates.append({"date": f"{year}-{month:02d}-{day:02d}", "what": _around(text, found)})
    amounts = [
        {"amount": found.group(0).strip(), "what": _around(text, found)}
        for found in re.finditer(r"(?:USD|EUR|\$|€|£)\s?\d[\d,]*(?:\.\d{2})?|\d[\d,]*(?:\.\d{2})? ?(?:USD|EUR)\b", text)
    ]
    tasks = []
    for line in text.splitlines():
        item = re.match(r"\s*(?:[-*•]|todo:|action:)\s*(.+)", line, re.I)
        if item and len(item.group(1).strip()) > 2:
            tasks.append({"title": item.group(1).strip()[:120], "description": "From the document.", "due_in_days": 7})
    return {
        "summary": " ".join(sentences[:2])[:600] or "The document is empty.",
        "key_dates": dates[:10],
        "amounts": amounts[:10],
        "tasks": tasks[:10],
    }


def _around(text: str, found) -> str:
    start = text.rfind("\n", 0, found.start()) + 1
    end = text.find("\n", found.end())
    return " ".join(text[start : end if end != -1 else len(text)].split())[:160]


def _digest(user: str) -> dict:
    items = re.findall(r"^#(\d+) \[([^\]]*)\] (.*)$", user, re.M)
    urgent = ("failed", "overdue", "suspended", "expired")
    ranked = sorted(items, key=lambda item: (not any(word in item[1] + item[2].lower() for word in urgent),))
    need_action = sum(1 for item in items if any(word in item[1] + item[2].lower() for word in urgent))
    return {
        "headline": f"{len(items)} unread; {need_action} need your attention first.",
        "order": [int(item[0]) for item in ranked],
    }


def _narrative(user: str) -> str:
    facts = [line.strip() for line in user.splitlines() if ":" in line and line.strip()][:12]
    return "Reading the figures: " + "; ".join(facts) + ". Start with the first item on the list."


@bp.post("/v1/chat/completions")
def chat_completions():
    auth = request.headers.get("Authorization", "")
    if auth != f"Bearer {current_app.config['AI_API_KEY']}":
        return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        return _error(400, "'messages' is required.", "invalid_request_error")
    messages = [m for m in body["messages"] if isinstance(m, dict)]
    system = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
    user = str(next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), ""))
    everything = system + "\n" + user
    if "[sandbox:fail]" in everything:
        return _error(500, "The sandbox was asked to fail.", "server_error")
    if "[sandbox:slow]" in everything:
        time.sleep(0.5)
    if "[sandbox:hang]" in everything:
        time.sleep(2.5)  # past a 1-second client timeout, for tests of timeouts
    wanted = _request_text(system, user)
    lowered = system.lower()
    if "[sandbox:badjson]" in everything:
        content = "Here is what I found: {tasks: [unterminated"
    elif "[sandbox:wrongshape]" in everything:
        content = json.dumps({"tasks": "none", "summary": 42, "order": "first"})
    elif "propose tasks" in lowered:
        content = json.dumps(_proposed_tasks(user))
    elif "key_dates" in lowered:
        content = json.dumps(_document(user))
    elif "daily digest" in lowered:
        content = json.dumps(_digest(user))
    elif "run history" in lowered or ("project" in lowered and "figures" in lowered):
        content = _narrative(user)
    elif "workflow" in lowered and "json" in lowered:
        content = json.dumps(_draft(wanted))
    elif "caption" in lowered or "hashtag" in lowered:
        content = json.dumps(_caption(user))
    else:
        content = _chat(wanted)
    max_tokens = int(body.get("max_tokens") or 1000)
    finish = "stop"
    if _tokens(content) > max_tokens:
        content, finish = content[: max_tokens * 4], "length"
    prompt_tokens = sum(_tokens(str(m.get("content", ""))) + 4 for m in messages)
    completion_tokens = _tokens(content)
    return jsonify(
        {
            "id": "chatcmpl-sandbox-" + hashlib.sha256(everything.encode()).hexdigest()[:12],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or "tessera-sandbox-1",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )
