"""Demo: the templates marketplace (published), and working workflows in the demo organizations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from webapp.core.access import ADMIN, MEMBER, OWNER
from webapp.demo import seeded, step
from webapp.extensions import db
from webapp.workflows import services
from webapp.workflows.models import Workflow, WorkflowTemplate

CHAT_POST = {
    "method": "POST",
    "url": "https://hooks.slack.com/services/T000/B000/XXXX",
    "headers": "",
    "body": '{"text": {{ ("Invoice " ~ trigger.invoice_id ~ " is overdue") | json }}}',
}

TEMPLATES: list[tuple[str, str, str, str, dict[str, Any]]] = [
    (
        "post-ready-videos",
        "Post every READY video to all platforms",
        "Studio",
        "As soon as an upload passes its checks, schedule it on TikTok, Instagram and YouTube, titled as caption.",
        {
            "trigger": {"type": "event", "event": "video.ready"},
            "steps": [
                {
                    "type": "schedule_post",
                    "name": "Schedule on every platform",
                    "config": {
                        "video_id": "{{ trigger.video_id }}",
                        "platforms": ["tiktok", "instagram", "youtube"],
                        "caption": "{{ trigger.title | default('New video') }}",
                        "hashtags": "",
                        "delay_minutes": 15,
                    },
                }
            ],
        },
    ),
    (
        "chat-on-overdue-invoice",
        "Slack-style message on an overdue invoice",
        "Billing",
        "Post to your team chat's incoming webhook when an invoice turns overdue.",
        {
            "trigger": {"type": "event", "event": "invoice.overdue"},
            "credentials": {"chat": {"kind": "bearer", "label": "Chat webhook token"}},
            "steps": [{"type": "http_request", "name": "Post to chat", "credential": "chat", "config": CHAT_POST}],
        },
    ),
    (
        "ticket-on-expired-connection",
        "Ticket when a connection expires",
        "Integrations",
        "Open a support ticket so someone reconnects freee, Google Drive or a social account.",
        {
            "trigger": {"type": "event", "event": "connection.expired"},
            "steps": [
                {
                    "type": "create_ticket",
                    "name": "Open a ticket",
                    "config": {
                        "subject": "Reconnect {{ trigger.provider | default('an integration') }}",
                        "description": "A connection expired and needs to be reconnected.\n\n{{ trigger | json }}",
                        "priority": "HIGH",
                    },
                }
            ],
        },
    ),
    (
        "notify-failed-posts",
        "Tell the team when a post fails",
        "Studio",
        "An in-app notification to owners and admins with the failure, so the post can be retried.",
        {
            "trigger": {"type": "event", "event": "post.failed"},
            "steps": [
                {
                    "type": "notify_members",
                    "name": "Notify owners and admins",
                    "config": {
                        "roles": [OWNER, ADMIN],
                        "title": "A post failed to publish",
                        "message": "{{ trigger.error | default('See the studio for details.') }}",
                        "link": "",
                    },
                }
            ],
        },
    ),
    (
        "thank-you-on-payment",
        "Thank-you e-mail when a payment arrives",
        "Billing",
        "Send your accounts team (or the payer) a short thank-you when a payment is received.",
        {
            "trigger": {"type": "event", "event": "payment.received"},
            "steps": [
                {
                    "type": "send_email",
                    "name": "Thank-you e-mail",
                    "config": {
                        "to": "{{ trigger.email | default('accounts@example.com') }}",
                        "subject": "Thank you for your payment",
                        "body": "We received your payment (reference {{ trigger.payment_id | default('-') }}).",
                    },
                }
            ],
        },
    ),
    (
        "weekly-monday-summary",
        "Weekly Monday reminder",
        "Reporting",
        "Every Monday at 08:00 (your time zone), remind the team to review invoices, posts and tickets.",
        {
            "trigger": {"type": "schedule", "cron": "0 8 * * 1"},
            "steps": [
                {
                    "type": "send_email",
                    "name": "Monday e-mail",
                    "config": {
                        "to": "team@example.com",
                        "subject": "Weekly review",
                        "body": "Review overdue invoices, scheduled posts and open tickets today.",
                    },
                }
            ],
        },
    ),
    (
        "forward-webhooks-to-crm",
        "Forward inbound webhooks to your CRM",
        "Integrations",
        "Receive any JSON at your workflow's webhook address and forward it to a CRM API with an API key.",
        {
            "trigger": {"type": "webhook"},
            "credentials": {"crm": {"kind": "api_key_header", "label": "CRM API key"}},
            "steps": [
                {
                    "type": "http_request",
                    "name": "Forward to CRM",
                    "credential": "crm",
                    "config": {
                        "method": "POST",
                        "url": "https://crm.example.com/api/events",
                        "headers": "",
                        "body": "{{ trigger.body | json }}",
                    },
                }
            ],
        },
    ),
    (
        "bill-setup-on-new-ticket",
        "Propose a setup fee for onboarding tickets",
        "Billing",
        "When a ticket is opened, propose a setup-fee line for the next invoice; staff approve it first.",
        {
            "trigger": {"type": "event", "event": "ticket.opened"},
            "steps": [
                {
                    "type": "condition",
                    "name": "Only onboarding tickets",
                    "config": {"expression": "'onboarding' in (trigger.subject | default('') | lower)"},
                },
                {
                    "type": "invoice_line",
                    "name": "Setup fee",
                    "config": {"description": "Onboarding setup", "amount": "50.00", "currency": "USD"},
                },
            ],
        },
    ),
]


def _staff():
    from webapp.auth.services import find_user_by_email
    from webapp.orgs.demo import STAFF_EMAIL

    return find_user_by_email(STAFF_EMAIL)


@step(order=80)
def workflow_templates() -> None:
    staff = _staff()
    for slug, name, category, description, definition in TEMPLATES:
        existing = db.session.scalar(select(WorkflowTemplate).where(WorkflowTemplate.slug == slug))
        if existing is None:
            services.save_template(
                None,
                staff,
                name=name,
                slug=slug,
                category=category,
                description=description,
                definition=definition,
                published=True,
            )


@step(order=81)
def demo_workflows() -> None:
    from webapp.orgs.demo import demo_org
    from webapp.workflows.execution import start_run

    for slug in ("harare-retail", "kyoto-creators"):
        org = demo_org(slug)
        if org is None or db.session.scalar(select(Workflow).where(Workflow.organization_id == org.id)):
            continue
        from webapp.auth.services import find_user_by_email

        owner = seeded(find_user_by_email(f"owner@{slug}.example"), f"the owner of {slug}")
        credential = services.create_credential(
            org, owner, name="Team chat webhook", kind="bearer", secret=f"demo-{slug}-chat-token-not-real"
        )
        services.create_credential(
            org,
            owner,
            name="CRM API key",
            kind="api_key_header",
            header_name="X-API-Key",
            secret=f"demo-{slug}-crm-key-not-real",
        )
        template = seeded(
            db.session.scalar(select(WorkflowTemplate).where(WorkflowTemplate.slug == "chat-on-overdue-invoice")),
            "the template chat-on-overdue-invoice",
        )
        services.install_template(template, org, owner, {"chat": credential.id})
        weekly = seeded(
            db.session.scalar(select(WorkflowTemplate).where(WorkflowTemplate.slug == "weekly-monday-summary")),
            "the template weekly-monday-summary",
        )
        monday = services.install_template(weekly, org, owner, {})
        monday.steps[0].config = {**monday.steps[0].config, "to": f"team@{slug}.example"}
        services.set_enabled(monday, org, owner, True)
        tickets = seeded(
            db.session.scalar(select(WorkflowTemplate).where(WorkflowTemplate.slug == "ticket-on-expired-connection")),
            "the template ticket-on-expired-connection",
        )
        services.set_enabled(services.install_template(tickets, org, owner, {}), org, owner, True)

        greeting = services.create_workflow(org, owner, "Welcome new members", "Runs by hand to show the run log.")
        notify = services.add_step(greeting, owner, "notify_members")
        notify.config = {
            "roles": [OWNER, ADMIN, MEMBER],
            "title": "Welcome to Tessera workflows",
            "message": "Every run is logged step by step.",
            "link": "",
        }
        check = services.add_step(greeting, owner, "condition")
        check.config = {"expression": "trigger.started_by is defined"}
        db.session.flush()
        start_run(greeting, "manual", {"started_by": owner.email})
