"""Metered AI requests and the features built on them: workflow drafts, caption suggestions, chat.

``ask`` is the one path: render the staff-managed prompt, reserve the most the request can cost,
call the provider, settle on the real token count (or refund everything on failure), log the usage.

Call ``ask`` with no uncommitted work (like ``oauth.refresh_if_needed``): it ends the current
transaction before the slow provider call, so no connection or row lock is held across it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sqlalchemy import select

from webapp.ai import credits
from webapp.ai.models import AiChatMessage, AiUsageLog
from webapp.ai.prompts import prompt_for, render_messages
from webapp.core.errors import DomainError, LimitExceeded
from webapp.extensions import db


class AiUnavailable(DomainError):
    code = "ai_unavailable"
    status = 502


@dataclass
class AiAnswer:
    content: str
    credits: int
    input_tokens: int
    output_tokens: int
    usage_log_id: int


def estimate_tokens(messages: list[dict]) -> int:
    return sum(len(m["content"]) // 4 + 4 for m in messages)


def _log_usage(**values) -> int:
    with db.engine.begin() as conn:
        return conn.execute(AiUsageLog.__table__.insert().values(**values)).inserted_primary_key[0]


def ask(org, user, service: str, key: str, variables: dict, *, operation: str, json_mode: bool = False) -> AiAnswer:
    from webapp.integrations.providers.ai import AiClient, AiProviderError

    prompt = prompt_for(service, key)
    messages = render_messages(prompt, variables)
    reserved = credits.credits_for_tokens(estimate_tokens(messages) + prompt.max_tokens)
    credits.balance_of(org)
    org_id, max_tokens = org.id, prompt.max_tokens
    db.session.commit()  # no transaction (nor pooled connection) held across the slow call
    user_id = getattr(user, "id", None)
    transaction_id = credits.reserve(org_id, reserved, user_id=user_id, service=service, operation=operation)
    if transaction_id is None:
        balance = credits.balance_of(org)
        db.session.refresh(balance)
        raise LimitExceeded(
            f"Not enough AI credits: this request needs up to {reserved}, the balance is {balance.balance}.",
            limit="ai_credits",
            code="insufficient_credits",
        )
    started = time.monotonic()
    base = dict(
        organization_id=org_id, user_id=user_id, service=service, operation=operation, credits_reserved=reserved
    )
    try:
        completion = AiClient(org_id).chat(
            messages, max_tokens=max_tokens, json_mode=json_mode, action=f"{service.lower()}.{operation}"
        )
    except AiProviderError as error:
        credits.refund(org_id, transaction_id, reserved, operation, str(error))
        _log_usage(
            **base,
            credits_used=0,
            processing_ms=int((time.monotonic() - started) * 1000),
            success=False,
            error_message=str(error)[:1000],
        )
        raise AiUnavailable(
            f"The AI service failed; your {reserved} reserved credits were refunded. ({error})"
        ) from None
    used = credits.credits_for_tokens(completion.input_tokens + completion.output_tokens)
    used = credits.settle(
        org_id,
        transaction_id,
        reserved,
        used,
        operation,
        {"input_tokens": completion.input_tokens, "output_tokens": completion.output_tokens},
    )
    log_id = _log_usage(
        **base,
        credits_used=used,
        input_tokens=completion.input_tokens,
        output_tokens=completion.output_tokens,
        model=completion.model,
        processing_ms=int((time.monotonic() - started) * 1000),
        success=True,
    )
    return AiAnswer(completion.content, used, completion.input_tokens, completion.output_tokens, log_id)


def _json(answer: AiAnswer) -> dict:
    text = answer.content.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except ValueError:
        raise AiUnavailable("The AI answered something that is not JSON. Try rephrasing.") from None
    if not isinstance(data, dict):
        raise AiUnavailable("The AI answered something that is not a JSON object.")
    return data


# --- features -------------------------------------------------------------------------------------


def draft_workflow(org, user, description: str) -> dict:
    """A workflow definition drafted from words, validated against the step types before it is shown."""
    from webapp.workflows.definitions import EVENTS, InvalidDefinition, validate_definition
    from webapp.workflows.steps import STEP_TYPES

    answer = ask(
        org,
        user,
        "WORKFLOW_OPTIMIZATION",
        "workflow_draft",
        {
            "org_name": org.name,
            "description": description.strip(),
            "step_types": ", ".join(STEP_TYPES),
            "events": ", ".join(EVENTS),
        },
        operation="workflow_draft",
        json_mode=True,
    )
    data = _json(answer)
    try:
        definition = validate_definition(data)
    except InvalidDefinition as problem:
        raise InvalidDefinition(
            f"The AI's draft did not pass the checks ({problem.message}). Try rephrasing.", field="description"
        ) from None
    name = str(data.get("name") or "Drafted workflow").strip()[:120]
    return {"name": name, "definition": definition, "credits": answer.credits}


def suggest_caption(org, user, title: str, topic: str = "", platforms: list[str] | None = None) -> dict:
    if not (title or "").strip():
        raise DomainError("Give the video a title first.", field="title")
    answer = ask(
        org,
        user,
        "TASK_GENERATION",
        "caption_suggestion",
        {
            "title": title.strip()[:200],
            "topic": (topic or "").strip()[:500],
            "platforms": ", ".join(platforms or ["tiktok", "instagram", "youtube"]),
        },
        operation="caption_suggestion",
        json_mode=True,
    )
    data = _json(answer)
    caption = str(data.get("caption") or "").strip()[:2200]
    tags = [str(t).strip() for t in (data.get("hashtags") or []) if str(t).strip()][:10]
    tags = [t if t.startswith("#") else f"#{t}" for t in tags]
    return {"caption": caption, "hashtags": tags, "credits": answer.credits}


def chat(org, user, question: str) -> AiChatMessage:
    question = (question or "").strip()
    if not question:
        raise DomainError("Ask something.", field="question")
    answer = ask(
        org, user, "CHAT_ASSISTANT", "org_chat", {"org_name": org.name, "question": question[:4000]}, operation="chat"
    )
    db.session.add(AiChatMessage(organization_id=org.id, user_id=user.id, role="user", content=question[:4000]))
    reply = AiChatMessage(organization_id=org.id, user_id=user.id, role="assistant", content=answer.content)
    db.session.add(reply)
    db.session.flush()
    return reply


def conversation(org, user, limit: int = 50) -> list[AiChatMessage]:
    rows = db.session.scalars(
        select(AiChatMessage)
        .where(AiChatMessage.organization_id == org.id, AiChatMessage.user_id == user.id)
        .order_by(AiChatMessage.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))
