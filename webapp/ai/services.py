"""Metered AI requests and the features built on them: workflow drafts, caption suggestions, chat.

``ask`` is the one path: render the staff-managed prompt, reserve the most the request can cost
(committed on its own, so concurrent requests see it), call the provider (refund everything on its
failure), and hand back the answer with the reservation still open. The feature then calls
``answer.charge()`` in the same transaction that stores (or shows) the answer: the charge on the real
token count and the usage log commit with it, or not at all. A reservation left open when the request
ends (the answer was refused, the store failed, the request raised) is refunded then.

Inside a request, ``ask`` remembers its answers: when ``perform`` runs the action a second time after
losing a race, the same question gets the answer already paid for instead of a second provider call.
Outside a request (a job, a test) the caller commits the charge and then calls ``answer.release()``.

``ask`` ends the current (read-only) transaction before the slow provider call, so no connection or
row lock is held across it: call it before the action writes anything.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TypeVar

from flask import g, has_request_context
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from webapp.ai import credits
from webapp.ai.models import AiChatMessage, AiUsageLog
from webapp.ai.prompts import prompt_for, render_messages
from webapp.core.errors import DomainError, LimitExceeded
from webapp.core.terms import N_
from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.settings import define, get

M = TypeVar("M", bound=BaseModel)

define(
    "ai.request_timeout_seconds",
    int,
    60,
    "Seconds an AI request may take before it fails (free)",
    minimum=1,
    maximum=600,
)


class AiUnavailable(DomainError):
    code = "ai_unavailable"
    status = 502


@dataclass
class AiAnswer:
    content: str
    credits: int  # what the answer costs once charged (until then: the most it can cost)
    input_tokens: int
    output_tokens: int
    usage_log_id: int | None = None
    transaction_id: int = 0  # the credit reservation (USAGE transaction) this call holds
    reserved: int = 0
    operation: str = ""
    usage: dict = field(default_factory=dict)  # the usage-log values that do not change

    def charge(self) -> int:
        """Settle on the real token count in the caller's transaction, with its usage log: it commits
        with what the caller stores, or not at all. Charging again in a later attempt of the same
        request (the earlier one rolled back) charges once."""
        used = credits.credits_for_tokens(self.input_tokens + self.output_tokens)
        self.credits = credits.settle(
            self.usage["organization_id"],
            self.transaction_id,
            self.reserved,
            used,
            self.operation,
            {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
            conn=db.session,
        )
        log = AiUsageLog(**self.usage, credits_used=self.credits, success=True)
        db.session.add(log)
        db.session.flush()
        self.usage_log_id = log.id
        return self.credits

    def refuse(self, reason: str) -> None:
        """The answer is unusable (not JSON, the wrong shape): refund the reservation now, with the reason
        in the history and the usage log, so nothing is charged."""
        if credits.refund(self.usage["organization_id"], self.transaction_id, self.reserved, self.operation, reason):
            _log_usage(**self.usage, credits_used=0, success=False, error_message=reason[:1000])

    def release(self) -> bool:
        """After the caller's transaction ended: if the charge did not commit, refund the reservation and
        log the call as not stored. Returns whether it refunded."""
        refunded = credits.refund(
            self.usage["organization_id"],
            self.transaction_id,
            self.reserved,
            self.operation,
            "the answer was not stored",
        )
        if refunded:
            _log_usage(
                **{**self.usage, "model": None},
                credits_used=0,
                success=False,
                error_message="The answer was not stored; the reserved credits were refunded.",
            )
        return refunded


def estimate_tokens(messages: list[dict]) -> int:
    return sum(len(m["content"]) // 4 + 4 for m in messages)


def _log_usage(**values) -> int:
    with db.engine.begin() as conn:
        key = conn.execute(AiUsageLog.__table__.insert().values(**values)).inserted_primary_key
    if key is None:  # an INSERT of one row always has its key
        raise RuntimeError("the usage log row came back without its id")
    return key[0]


def _answers() -> dict | None:
    if not has_request_context():
        return None
    if "_tessera_ai_answers" not in g:
        g._tessera_ai_answers = {}
    return g._tessera_ai_answers


def release_open_answers(_exception=None) -> None:
    """At the end of a request: refund every reservation whose charge did not commit."""
    answers = g.pop("_tessera_ai_answers", None) if has_request_context() else None
    if answers:
        db.session.rollback()  # whatever did not commit is gone anyway; it must not hold the balance row
    for answer in (answers or {}).values():
        answer.release()


def ask(org, user, service: str, key: str, variables: dict, *, operation: str, json_mode: bool = False) -> AiAnswer:
    from webapp.integrations.providers.ai import AiClient, AiProviderError

    user_id = getattr(user, "id", None)
    memo = _answers()
    memo_key = (org.id, user_id, service, key, operation, json.dumps(variables, sort_keys=True, default=str))
    if memo is not None and memo_key in memo:
        return memo[memo_key]  # a second attempt of this request's transaction: the provider is not asked again
    prompt = prompt_for(service, key)
    messages = render_messages(prompt, variables)
    reserved = credits.credits_for_tokens(estimate_tokens(messages) + prompt.max_tokens)
    credits.balance_of(org)
    org_id, max_tokens = org.id, prompt.max_tokens
    commit_progress("no transaction (nor pooled connection) is held across the slow AI call")
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
        completion = AiClient(org_id, timeout=float(get("ai.request_timeout_seconds"))).chat(
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
    answer = AiAnswer(
        completion.content,
        reserved,
        completion.input_tokens,
        completion.output_tokens,
        transaction_id=transaction_id,
        reserved=reserved,
        operation=operation,
        usage={
            **base,
            "input_tokens": completion.input_tokens,
            "output_tokens": completion.output_tokens,
            "model": completion.model,
            "processing_ms": int((time.monotonic() - started) * 1000),
        },
    )
    if memo is not None:
        memo[memo_key] = answer
    return answer


def _json(answer: AiAnswer) -> dict:
    text = answer.content.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except ValueError:
        answer.refuse("The AI answered something that is not JSON.")
        raise AiUnavailable("The AI answered something that is not JSON; nothing was charged. Try again.") from None
    if not isinstance(data, dict):
        answer.refuse("The AI answered something that is not a JSON object.")
        raise AiUnavailable("The AI answered something that is not a JSON object; nothing was charged.")
    return data


def parsed(answer: AiAnswer, schema: type[M]) -> M:
    """The AI's JSON answer checked against ``schema`` before anything uses it; an answer of the wrong
    shape is refunded and refused with a message a person can act on."""
    data = _json(answer)
    try:
        return schema.model_validate(data)
    except ValidationError as problem:
        first = problem.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "answer"
        answer.refuse(f"The AI's answer did not have the expected shape ({where}: {first.get('msg')}).")
        raise AiUnavailable(
            "The AI's answer did not have the expected shape; nothing was charged. Try again or rephrase."
        ) from None


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
    answer.charge()  # the draft passed its checks and is shown: now it costs
    return {"name": name, "definition": definition, "credits": answer.credits}


def suggest_caption(org, user, title: str, topic: str = "", platforms: list[str] | None = None) -> dict:
    if not (title or "").strip():
        raise DomainError(N_("Give the video a title first."), field="title")
    answer = ask(
        org,
        user,
        "CAPTION_SUGGESTIONS",
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
    answer.charge()
    return {"caption": caption, "hashtags": tags, "credits": answer.credits}


def chat(org, user, question: str) -> AiChatMessage:
    question = (question or "").strip()
    if not question:
        raise DomainError(N_("Ask something."), field="question")
    answer = ask(
        org, user, "CHAT_ASSISTANT", "org_chat", {"org_name": org.name, "question": question[:4000]}, operation="chat"
    )
    db.session.add(AiChatMessage(organization_id=org.id, user_id=user.id, role="user", content=question[:4000]))
    reply = AiChatMessage(organization_id=org.id, user_id=user.id, role="assistant", content=answer.content)
    db.session.add(reply)
    db.session.flush()
    answer.charge()  # with the stored messages: both commit, or neither
    return reply


def conversation(org, user, limit: int = 50) -> list[AiChatMessage]:
    rows = db.session.scalars(
        select(AiChatMessage)
        .where(AiChatMessage.organization_id == org.id, AiChatMessage.user_id == user.id)
        .order_by(AiChatMessage.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))
