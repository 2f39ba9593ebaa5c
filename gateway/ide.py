"""GraphiQL page for the gateway, served entirely from local static assets.

The page is strawberry's ``static/graphiql.html`` (same GraphiQL, React,
js-cookie and explorer-plugin versions, byte-identical files) with every asset
served by the gateway itself from ``gateway/static/graphiql/`` — nothing is
loaded from a CDN or any other host. ``scripts/vendor-graphiql.sh`` refreshes
the vendored files.

Above GraphiQL, a sign-in panel (``static/graphiql/session.js``) calls ``signIn``, keeps
the token in the tab's ``sessionStorage`` only, sends it as ``Authorization`` with every
request of the IDE (HTTP, and the WebSocket's ``connection_init``), shows who is signed
in (``me``) and signs out. The editors' ready operations (:data:`READY_OPERATIONS`) open
as GraphiQL's default tabs the first time the IDE is opened in a browser.

The page holds no inline script or style: the bootstrap lives in
``static/graphiql/boot.js`` and reads its settings from ``data-`` attributes,
so the page works under ``Content-Security-Policy: default-src 'self'``
(GraphiQL itself needs ``style-src 'self' 'unsafe-inline'`` for the styles its
components set, and ``connect-src 'self'`` covers fetch and ws to the same
origin in current browsers).

Wiring (in the app)::

    from starlette.responses import HTMLResponse
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles
    from strawberry.asgi import GraphQL

    from gateway.ide import STATIC_DIR, render_ide_html

    class TecGraphQL(GraphQL):
        async def render_graphql_ide(self, request):
            return HTMLResponse(render_ide_html())

    routes = [..., Mount("/static", StaticFiles(directory=STATIC_DIR), name="static")]
"""

from __future__ import annotations

import html
import json
import pathlib
from dataclasses import dataclass

__all__ = [
    "DEFAULT_QUERY",
    "IDE_TITLE",
    "READY_OPERATIONS",
    "STATIC_DIR",
    "ReadyOperation",
    "render_ide_html",
]

#: The ``gateway/static`` folder; mount it at ``/static`` (``assets_path`` below
#: then defaults to its ``graphiql`` sub-folder).
STATIC_DIR: pathlib.Path = pathlib.Path(__file__).resolve().parent / "static"

IDE_TITLE = "Territoires en Commun — GraphQL"

#: Query of the first tab, shown when the URL carries no ``?q=``.
DEFAULT_QUERY = """\
# Territoires en Commun — explorateur GraphQL
#
# Exécuter : Ctrl-Entrée (ou le bouton ▶).
# Connectez-vous en haut de la page : vos requêtes partent alors avec votre jeton.
# Les onglets suivants sont des opérations prêtes à l'emploi des éditeurs.

query Ressources {
  resources(first: 5) {
    edges {
      node {
        title
        kind
        themes {
          title
        }
      }
    }
  }
}
"""


@dataclass(frozen=True)
class ReadyOperation:
    """A document editors start from, opened as a tab of the IDE (named after its first
    operation), with example variables."""

    query: str
    variables: dict[str, object]


READY_OPERATIONS: tuple[ReadyOperation, ...] = (
    ReadyOperation(
        """\
# Créer une ressource (brouillon, éditeurs) : remplissez les variables, puis ▶.
# Gardez l'id et la version : « Publish » les demande.
mutation CreateResource($input: ResourceCreateInput!) {
  createResource(input: $input) {
    resource {
      id
      version
      slug
      status
      title
    }
    errors {
      field
      code
      message
    }
  }
}
""",
        {
            "input": {
                "title": "Guide de la participation des habitants",
                "summary": "Les étapes d'une démarche participative, de la concertation au bilan.",
                "kind": "GUIDE",
                "url": "https://example.org/guide",
            }
        },
    ),
    ReadyOperation(
        """\
# Publier un contenu (éditeurs) : maintenant, ou à une date avec « at ».
mutation Publish($id: ID!, $version: Int!, $at: DateTime) {
  publish(id: $id, version: $version, at: $at) {
    node {
      id
      ... on Resource {
        title
        status
        publishedAt
        version
      }
    }
    errors {
      field
      code
      message
    }
  }
}
""",
        {"id": "ID de la ressource", "version": 1, "at": None},
    ),
    ReadyOperation(
        """\
# Modérer les contributions (éditeurs) : la file d'attente, puis accepter ou refuser
# (choisissez l'opération avec ▶).
query ModerationQueue {
  moderationQueue(first: 10) {
    nodes {
      id
      version
      title
      summary
      submittedAt
      contributorTerritory {
        name
      }
      contributorOrganization {
        name
      }
    }
  }
}

mutation AcceptContribution($id: ID!, $version: Int!) {
  acceptContribution(id: $id, version: $version) {
    resource {
      id
      status
    }
    errors {
      field
      code
      message
    }
  }
}

mutation RejectContribution($id: ID!, $version: Int!, $reason: String!) {
  rejectContribution(id: $id, version: $version, reason: $reason) {
    resource {
      id
      status
      rejectionReason
    }
    errors {
      field
      code
      message
    }
  }
}
""",
        {"id": "ID de la contribution", "version": 1, "reason": "Hors du champ du site."},
    ),
    ReadyOperation(
        """\
# Préparer une newsletter (éditeurs) : un brouillon pré-rempli pour un mois, sa
# composition, puis son aperçu en texte (ou HTML).
mutation DraftNewsletter($month: String!) {
  draftNewsletter(month: $month) {
    issue {
      id
      title
      version
      sections {
        kind
      }
    }
    errors {
      field
      code
      message
    }
  }
}

mutation ComposeNewsletter($id: ID!) {
  composeNewsletter(id: $id) {
    composed {
      subject
      sections {
        kind
        titles
      }
    }
    errors {
      field
      code
      message
    }
  }
}

query PreviewNewsletter($id: ID!) {
  newsletterPreview(id: $id, format: TEXT)
}
""",
        {"month": "2030-01", "id": "ID du numéro"},
    ),
    ReadyOperation(
        """\
# Ouvrir un tour de vote (éditeurs) : les thèmes candidats par leur ID
# (CandidateThemes les liste).
mutation OpenVotingRound($input: VotingRoundInput!) {
  openVotingRound(input: $input) {
    votingRound {
      id
      title
      opensAt
      closesAt
      isOpen
    }
    errors {
      field
      code
      message
    }
  }
}

query CandidateThemes {
  themes(first: 20) {
    nodes {
      id
      title
    }
  }
}
""",
        {
            "input": {
                "title": "Thématique du prochain projet partagé",
                "opensAt": "2030-01-06T09:00:00+01:00",
                "closesAt": "2030-01-31T18:00:00+01:00",
                "votesPerTerritory": 3,
                "candidates": ["ID d'un thème", "ID d'un autre thème"],
            }
        },
    ),
)
"""The ready operations, in the order of their tabs (after the default query's)."""


def _default_tabs(default_query: str) -> str:
    tabs = [{"query": default_query}] + [
        {"query": op.query, "variables": json.dumps(op.variables, ensure_ascii=False, indent=2)}
        for op in READY_OPERATIONS
    ]
    return json.dumps(tabs, ensure_ascii=False)


# Load order matters: React, ReactDOM and js-cookie are globals that
# graphiql.min.js and the explorer plugin expect.
_STYLESHEETS = ("graphiql.min.css", "graphiql-plugin-explorer.css", "ide.css")
_SCRIPTS_HEAD = ("react.production.min.js", "react-dom.production.min.js", "js.cookie.min.js")
_SCRIPTS_BODY = ("graphiql.min.js", "graphiql-plugin-explorer.js", "session.js")

_PAGE = """\
<!doctype html>
<html lang="fr">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>{title}</title>
    <link rel="icon" type="image/svg+xml" href="{assets}/favicon.svg" />
{stylesheets}
{head_scripts}
  </head>
  <body>
    <header id="tec-session" class="tec-session" data-graphql-path="{graphql_path}">
      <strong class="tec-session-title">Territoires en Commun</strong>
      <form id="tec-sign-in" class="tec-sign-in" method="post" hidden>
        <label>E-mail
          <input type="email" name="email" autocomplete="username" required />
        </label>
        <label>Mot de passe
          <input type="password" name="password" autocomplete="current-password" required />
        </label>
        <button type="submit">Se connecter</button>
      </form>
      <div id="tec-signed-in" class="tec-signed-in" hidden>
        Connecté·e : <span id="tec-viewer-name"></span>
        (<span id="tec-viewer-role"></span>)
        <button type="button" id="tec-sign-out">Se déconnecter</button>
      </div>
      <p id="tec-session-message" class="tec-session-message" role="status"></p>
    </header>
    <div id="graphiql" class="graphiql-container">Chargement…</div>
{body_scripts}
    <script
      id="tec-graphiql-boot"
      src="{assets}/boot.js"
      data-graphql-path="{graphql_path}"
      data-default-query="{default_query}"
      data-default-tabs="{default_tabs}"
    ></script>
  </body>
</html>
"""


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def render_ide_html(
    *,
    graphql_path: str = "/graphql",
    assets_path: str = "/static/graphiql",
    default_query: str = DEFAULT_QUERY,
) -> str:
    """Return the GraphiQL page.

    ``graphql_path`` is the endpoint the IDE posts to (resolved against the
    page URL, so a relative or absolute path both work); ``assets_path`` is the
    URL prefix where ``STATIC_DIR / "graphiql"`` is served.
    """
    assets = _attr(assets_path.rstrip("/"))
    stylesheets = "\n".join(
        f'    <link rel="stylesheet" href="{assets}/{name}" />' for name in _STYLESHEETS
    )
    head_scripts = "\n".join(
        f'    <script src="{assets}/{name}"></script>' for name in _SCRIPTS_HEAD
    )
    body_scripts = "\n".join(
        f'    <script src="{assets}/{name}"></script>' for name in _SCRIPTS_BODY
    )
    return _PAGE.format(
        title=html.escape(IDE_TITLE),
        assets=assets,
        stylesheets=stylesheets,
        head_scripts=head_scripts,
        body_scripts=body_scripts,
        graphql_path=_attr(graphql_path),
        default_query=_attr(default_query),
        default_tabs=_attr(_default_tabs(default_query)),
    )
