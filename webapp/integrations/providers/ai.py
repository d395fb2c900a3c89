"""AI provider: any OpenAI-compatible chat-completions endpoint (``AI_BASE_URL``, ``AI_API_KEY``,
``AI_MODEL``), through the provider client so every request lands in the outbound-call log."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from webapp.integrations.providers.client import ProviderClient, ProviderError


class AiProviderError(Exception):
    """The AI call failed or answered something unusable; the message is safe to show."""


@dataclass
class Completion:
    content: str
    input_tokens: int
    output_tokens: int
    model: str
    finish_reason: str | None = None


class AiClient:
    def __init__(
        self,
        org_id: int | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        timeout: float = 60.0,
    ):
        config = current_app.config
        self.base_url = (base_url or config["AI_BASE_URL"]).rstrip("/")
        self.api_key = api_key if api_key is not None else config["AI_API_KEY"]
        self.model = model or config["AI_MODEL"]
        self.org_id = org_id
        self.timeout = timeout

    def chat(
        self,
        messages: list[dict],
        *,
        max_tokens: int = 600,
        temperature: float = 0.2,
        json_mode: bool = False,
        action: str = "chat_completion",
    ) -> Completion:
        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature}
        if json_mode:
            body["response_format"] = {"type": "json_object"}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        with ProviderClient("ai", org_id=self.org_id, timeout=self.timeout, max_retries=2) as client:
            try:
                response = client.request(
                    action,
                    "POST",
                    f"{self.base_url}/chat/completions",
                    json=body,
                    headers=headers,
                    metadata={"model": self.model},
                )
            except ProviderError as error:
                raise AiProviderError(str(error)) from None
        try:
            data = response.json()
            choice = data["choices"][0]
            usage = data.get("usage") or {}
            return Completion(
                content=str(choice["message"]["content"] or ""),
                input_tokens=int(usage.get("prompt_tokens") or 0),
                output_tokens=int(usage.get("completion_tokens") or 0),
                model=str(data.get("model") or self.model),
                finish_reason=choice.get("finish_reason"),
            )
        except (ValueError, KeyError, IndexError, TypeError):
            raise AiProviderError("The AI provider answered in an unexpected format.") from None
