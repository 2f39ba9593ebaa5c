"""Orchestration: send an issue now (``tec newsletter send``), start scheduled issues and
drain the queue (``tec mailer``), send a test, send a confirmation link, send a
password-reset link."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from mailer.compose import ComposedIssue, Executor, compose_issue
from mailer.delivery import BatchReport, Sender, _sleep, drain
from mailer.links import (
    confirmation_url,
    password_reset_url,
    public_values,
    recipient_values,
)
from mailer.message import MessageFactory
from mailer.render import Personalizer
from mailer.transport import MailTransport
from services import db
from services.accounts.models import Account
from services.editing import now
from services.newsletters import queue
from services.newsletters.models import IssueStatus, NewsletterIssue
from services.newsletters.service import mark_sending
from services.settings import Settings
from services.subscribers.models import Subscriber, SubscriptionRequest
from services.subscribers.service import confirmation_token
from services.subscribers.signing import signing_keys
from services.viewer import Role, Viewer

logger = logging.getLogger("tec.mailer")
OPERATOR = Viewer(role=Role.EDITOR)
"""Who composes for operators' commands: an editor without an account."""


async def composer_of(issue: NewsletterIssue) -> Viewer:
    """The editor who scheduled the issue (their rights compose it), else the operator."""
    account_id = issue.scheduled_by_id  # type: ignore[attr-defined]
    account = await Account.filter(id=account_id, is_active=True).first() if account_id else None
    if account is None or account.role not in (Role.EDITOR, Role.ADMIN):
        return OPERATOR
    return Viewer(role=account.role, account_id=account.id)


async def start_issue(
    execute: Executor,
    issue: NewsletterIssue,
    *,
    settings: Settings,
    viewer: Viewer,
    by: Viewer | None = None,
) -> tuple[NewsletterIssue, int]:
    """Compose once (as ``viewer``), freeze and queue one message per recipient; the
    audit log records the start under ``by`` (None: the platform, for a scheduled issue).
    A composition error refuses (CompositionFailed) and nothing is queued."""
    composed = await compose_issue(execute, issue, viewer=viewer, settings=settings)
    return await queue.freeze_and_enqueue(
        issue.id, subject=composed.subject, html=composed.html, text=composed.text, by=by
    )


async def send_issue(
    execute: Executor,
    issue_id: int,
    *,
    settings: Settings,
    transport: MailTransport,
    viewer: Viewer | None = None,
    by: Viewer | None = None,
    on_start: Callable[[int, dict[str, int]], None] | None = None,
    progress: Callable[[BatchReport], None] | None = None,
    stop: asyncio.Event | None = None,
) -> dict[str, int]:
    """Send an issue now and wait until every message is sent or failed (retries
    included). Run again after a crash: it resumes where the queue stands. ``viewer``
    composes it (its scheduler by default); the audit log records the start under ``by``
    (the operator of ``tec newsletter send``)."""
    issue = await mark_sending(None, issue_id)
    if issue.status is not IssueStatus.SENDING:
        issue, _ = await start_issue(
            execute,
            issue,
            settings=settings,
            viewer=viewer or await composer_of(issue),
            by=by,
        )
    if on_start:
        on_start(issue.id, await queue.progress(issue.id))
    sender = Sender(settings, transport)
    while True:
        await drain(sender, issue_id=issue.id, stop=stop, progress=progress)
        counts = await queue.progress(issue.id)
        if counts["PENDING"] + counts["SENDING"] == 0 or (stop and stop.is_set()):
            return counts
        await _sleep(min(settings.mail.mail_poll_interval, 1.0), stop)


async def start_due_issues(execute: Executor, *, settings: Settings) -> list[int]:
    """Start the scheduled issues whose time has come (compose, freeze, queue)."""
    started = []
    for issue in await queue.claim_due_issues(at=now()):
        try:
            await start_issue(execute, issue, settings=settings, viewer=await composer_of(issue))
        except Exception:  # one broken issue must not stop the others
            logger.exception("scheduled issue %s could not start", issue.id)
            continue
        started.append(issue.id)
    return started


async def run_worker(
    execute: Executor, *, settings: Settings, transport: MailTransport, stop: asyncio.Event
) -> None:
    """``tec mailer``: start due issues and drain the queue until ``stop``."""
    sender = Sender(settings, transport)
    pause = settings.mail.mail_poll_interval
    while not stop.is_set():
        try:
            await start_due_issues(execute, settings=settings)
            await drain(sender, stop=stop)
        except Exception as error:
            # A database outage stops a round, not the worker: claims are leased, so
            # whatever this round held is taken up again once the database is back.
            if not db.is_unavailable(error):
                raise
            logger.warning("database unavailable; mailer retrying in %.0f s: %s", pause, error)
            await _sleep(pause, stop)
            pause = min(pause * 2, 60.0)
            continue
        pause = settings.mail.mail_poll_interval
        await _sleep(settings.mail.mail_poll_interval, stop)


SAMPLE_NAME = "Camille"
"""The recipient previews and test sends are personalised for."""


def sample_values(settings: Settings) -> dict[str, str]:
    """A sample recipient's values: their name, and the unsubscribe and preferences pages
    without a token (which tell the reader to use the links of their own e-mails)."""
    return {**public_values(settings), "greeting": f"Bonjour {SAMPLE_NAME},"}


def sample_render(html: str, text: str, settings: Settings) -> tuple[str, str]:
    """HTML and text of an issue as the sample recipient would receive them."""
    values = sample_values(settings)
    return (
        Personalizer.of(html, escape=True).fill(values),
        Personalizer.of(text, escape=False).fill(values),
    )


async def preview(
    execute: Executor, issue: NewsletterIssue, *, settings: Settings, viewer: Viewer
) -> ComposedIssue:
    """Compose without freezing, personalised for the sample recipient (what editors see
    before sending)."""
    composed = await compose_issue(execute, issue, viewer=viewer, settings=settings)
    html, text = sample_render(composed.html, composed.text, settings)
    return dataclasses.replace(composed, html=html, text=text)


def public_render(html: str, settings: Settings) -> str:
    """Frozen HTML of the web archive: recipient parts filled with nobody's links."""
    return Personalizer.of(html, escape=True).fill(public_values(settings))


async def send_test(
    execute: Executor,
    issue: NewsletterIssue,
    *,
    to: str,
    settings: Settings,
    transport: MailTransport,
    viewer: Viewer,
) -> str:
    """Compose the issue now and send it to one address, subject marked [TEST],
    personalised for the sample recipient. Returns the Message-ID."""
    composed = await preview(execute, issue, settings=settings, viewer=viewer)
    factory = MessageFactory(
        sender=settings.mail.mail_from,
        subject=f"[TEST] {composed.subject}",
        domain_key=f"test-{issue.id}-{int(now().timestamp())}",
    )
    envelope = factory.build(
        to_name="",
        to_address=to,
        subscriber_key="test",
        html=composed.html,
        text=composed.text,
        unsubscribe_url=sample_values(settings)["unsubscribe_url"],
    )
    await transport.send(envelope)
    return envelope.message_id


async def send_confirmation(
    subscriber: Subscriber,
    request: SubscriptionRequest,
    *,
    settings: Settings,
    transport: MailTransport,
) -> str:
    """The double opt-in e-mail of one request: a signed link valid 7 days, to a page whose
    button confirms. The greeting is neutral: anyone may ask, so the name they typed is
    never shown to the address's owner. Returns the link."""
    keys = signing_keys(settings)
    link = confirmation_url(settings, confirmation_token(keys, request))
    factory = MessageFactory(
        sender=settings.mail.mail_from,
        subject="Confirmez votre abonnement à la newsletter Territoires en Commun",
        domain_key=f"confirm-{request.id}",
    )
    text = (
        "Bonjour,\n\nVous avez demandé à recevoir la newsletter Territoires en Commun.\n"
        "Ouvrez ce lien (valable 7 jours), puis cliquez sur « Confirmer mon abonnement » :"
        f"\n\n{link}\n\n"
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien ne change "
        "et vous ne recevrez rien.\n"
    )
    from html import escape

    html = (
        '<!doctype html><html lang="fr"><body style="font-family:Arial,sans-serif">'
        + "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n") if "http" not in p)
        + f'<p><a href="{escape(link)}" style="background:#000091;color:#fff;padding:10px 16px;'
        f'text-decoration:none">Je confirme mon abonnement</a></p></body></html>'
    )
    manage = recipient_values(
        settings, keys, subscriber_id=subscriber.id, generation=subscriber.link_generation, name=""
    )
    envelope = factory.build(
        to_name="",
        to_address=subscriber.email,
        subscriber_key=subscriber.id,
        html=html,
        text=text,
        unsubscribe_url=manage["unsubscribe_url"],
    )
    await transport.send(envelope)
    return link


async def send_password_reset(
    account: Account,
    token: str,
    *,
    settings: Settings,
    transport: MailTransport,
) -> str:
    """The e-mail of a password reset an administrator asked for: a link to the gateway's
    page where the account's owner chooses a new password (valid 24 hours, once). Returns
    the link."""
    from html import escape

    link = password_reset_url(settings, token)
    factory = MessageFactory(
        sender=settings.mail.mail_from,
        subject="Choisissez un nouveau mot de passe — Territoires en Commun",
        domain_key=f"password-{account.id}-{int(now().timestamp())}",
    )
    greeting = f"Bonjour {account.display_name}," if account.display_name else "Bonjour,"
    paragraphs = [
        greeting,
        "Un administrateur de Territoires en Commun a demandé la réinitialisation du mot de "
        f"passe du compte {account.email}. Ouvrez ce lien (valable 24 heures, une seule fois) "
        "pour en choisir un nouveau :",
        link,
        "Votre mot de passe actuel reste valable tant que vous n'en avez pas choisi un "
        "nouveau. Si vous n'attendiez pas ce message, ignorez-le.",
    ]
    text = "\n\n".join(paragraphs) + "\n"
    html = (
        '<!doctype html><html lang="fr"><body style="font-family:Arial,sans-serif">'
        + "".join(f"<p>{escape(p)}</p>" for p in paragraphs if p != link)
        + f'<p><a href="{escape(link)}" style="background:#000091;color:#fff;padding:10px 16px;'
        f'text-decoration:none">Choisir un nouveau mot de passe</a></p></body></html>'
    )
    envelope = factory.build(
        to_name=account.display_name,
        to_address=account.email,
        subscriber_key=f"account-{account.id}",
        html=html,
        text=text,
    )
    await transport.send(envelope)
    return link
