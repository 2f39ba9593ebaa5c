"""Service notices to partners: the e-mail telling an endpoint's owner that its webhooks
were disabled."""

from __future__ import annotations

from html import escape

from mailer.message import MessageFactory
from mailer.transport import MailTransport
from services.settings import Settings
from services.webhooks.sender import DisabledNotice, Notify

PARIS = "Europe/Paris"


def disabled_notice_text(notice: DisabledNotice) -> tuple[str, str]:
    """(subject, plain text) of the notice."""
    from zoneinfo import ZoneInfo

    when = notice.disabled_at.astimezone(ZoneInfo(PARIS)).strftime("%d/%m/%Y à %H:%M")
    subject = "Vos webhooks Territoires en Commun sont désactivés"
    text = (
        "Bonjour,\n\n"
        f"Nous avons désactivé le webhook {notice.url} le {when} (heure de Paris) : "
        f"{notice.reason}.\n\n"
        "Les événements continuent d'être enregistrés pour cette adresse et lui seront "
        "envoyés dès sa réactivation (mutation updateWebhookEndpoint avec enabled: true, "
        "ou par l'équipe de la plateforme). Le journal des livraisons "
        "(webhookDeliveries) donne le code et la réponse de chaque tentative.\n"
    )
    return subject, text


def notifier(settings: Settings, transport: MailTransport) -> Notify:
    """The sender's ``notify``: one e-mail per recipient through ``transport``."""

    async def notify(notice: DisabledNotice) -> None:
        subject, text = disabled_notice_text(notice)
        html = (
            '<!doctype html><html lang="fr"><body style="font-family:Arial,sans-serif">'
            + "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n") if p.strip())
            + "</body></html>"
        )
        factory = MessageFactory(
            sender=settings.mail.mail_from,
            subject=subject,
            domain_key=f"webhook-{notice.endpoint_id}-{int(notice.disabled_at.timestamp())}",
            list_name="Territoires en Commun webhooks",
        )
        for number, address in enumerate(notice.recipients):
            await transport.send(
                factory.build(
                    to_name="", to_address=address, subscriber_key=number, html=html, text=text
                )
            )

    return notify
