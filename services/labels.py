"""French labels of every enumerated value, as people see them (IDE, feeds, e-mails)."""

from __future__ import annotations

import datetime as dt
import enum

from services.content import Audience, ContentStatus
from services.events.models import EventFormat
from services.organizations.models import OrganizationKind, OrganizationRole
from services.projects.models import MembershipRole, MembershipStatus, ProjectStatus, StageKind
from services.resources.models import ResourceKind
from services.territories.models import TerritoryLevel
from services.viewer import Role
from services.webhooks.models import DeliveryStatus

LABELS: dict[enum.Enum, str] = {
    Role.ADMIN: "Administrateur",
    Role.EDITOR: "Éditeur",
    Role.LOCAL_AUTHORITY: "Membre d'une collectivité",
    Role.PARTNER: "Partenaire",
    Role.ANONYMOUS: "Anonyme",
    ContentStatus.DRAFT: "Brouillon",
    ContentStatus.SUBMITTED: "Proposé, en attente de modération",
    ContentStatus.PUBLISHED: "Publié",
    ContentStatus.REJECTED: "Refusé",
    ContentStatus.ARCHIVED: "Archivé",
    Audience.ALL: "Tous publics",
    Audience.LOCAL_AUTHORITIES: "Collectivités territoriales",
    Audience.PARTNERS: "Partenaires",
    Audience.CITIZENS: "Citoyennes et citoyens",
    ResourceKind.EXPERIENCE: "Retour d'expérience",
    ResourceKind.GUIDE: "Guide",
    ResourceKind.TOOLKIT: "Boîte à outils",
    ResourceKind.SURVEY: "Enquête",
    ResourceKind.DOSSIER: "Dossier",
    ResourceKind.WEBINAR: "Webinaire",
    ResourceKind.GAME: "Jeu",
    ResourceKind.MOOC: "MOOC",
    ResourceKind.REPORT: "Rapport",
    ResourceKind.NEWS: "Actualité",
    ResourceKind.OTHER: "Autre",
    EventFormat.WEBINAR: "Webinaire",
    EventFormat.TRAINING: "Formation",
    EventFormat.CONFERENCE: "Conférence",
    EventFormat.AFTERWORK: "Afterwork",
    EventFormat.FESTIVAL: "Festival",
    EventFormat.MEETING: "Rencontre",
    EventFormat.FAIR: "Salon",
    EventFormat.OTHER: "Autre",
    OrganizationKind.PUBLIC_AGENCY: "Agence ou service de l'État",
    OrganizationKind.PUBLIC_BANK: "Banque publique",
    OrganizationKind.ASSOCIATION: "Association",
    OrganizationKind.LOCAL_AUTHORITY: "Collectivité territoriale",
    OrganizationKind.COMPANY: "Entreprise",
    OrganizationKind.RESEARCH: "Recherche",
    OrganizationKind.MEDIA: "Média",
    OrganizationKind.NETWORK: "Réseau",
    OrganizationKind.OTHER: "Autre",
    OrganizationRole.CO_ANIMATOR: "Co-animateur de Territoires en Commun",
    OrganizationRole.PROVIDER: "Prestataire d'accompagnement",
    OrganizationRole.SOURCE: "Source de ressources",
    OrganizationRole.PARTNER: "Partenaire",
    OrganizationRole.ORGANIZER: "Organisateur d'événements",
    TerritoryLevel.COMMUNE: "Commune",
    TerritoryLevel.EPCI: "EPCI (intercommunalité)",
    TerritoryLevel.DEPARTEMENT: "Département",
    TerritoryLevel.REGION: "Région",
    TerritoryLevel.METROPOLE: "Métropole",
    ProjectStatus.DRAFT: "Brouillon",
    ProjectStatus.OPEN: "Ouvert aux candidatures",
    ProjectStatus.ENGAGEMENT: "Engagement",
    ProjectStatus.DIAGNOSTIC: "Diagnostic",
    ProjectStatus.ACTION_PLANS: "Plans d'action",
    ProjectStatus.EVALUATION: "Évaluation",
    ProjectStatus.COMPLETED: "Terminé",
    ProjectStatus.CANCELLED: "Annulé",
    StageKind.ENGAGEMENT: "L'engagement dans un projet partagé",
    StageKind.DIAGNOSTIC: "Le diagnostic dans chaque territoire",
    StageKind.ACTION_PLANS: "La conception des plans d'action territoriaux",
    StageKind.EVALUATION: "L'évaluation de la démarche",
    MembershipRole.PARTICIPANT: "Participante",
    MembershipRole.OBSERVER: "Observatrice",
    MembershipStatus.APPLIED: "Candidature envoyée",
    MembershipStatus.CONFIRMED: "Confirmée",
    MembershipStatus.DECLINED: "Déclinée",
    MembershipStatus.WITHDRAWN: "Retirée",
    DeliveryStatus.PENDING: "En attente (première tentative ou nouvelle tentative)",
    DeliveryStatus.SENDING: "En cours d'envoi",
    DeliveryStatus.DELIVERED: "Livré",
    DeliveryStatus.FAILED: "Échec définitif",
}


def label(value: enum.Enum) -> str:
    """The French label of ``value`` (its name if none was written)."""
    return LABELS.get(value, value.name.replace("_", " ").capitalize())


MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def month_label(month: dt.date) -> str:
    """« novembre 2022 »."""
    return f"{MONTHS[month.month - 1]} {month.year}"
