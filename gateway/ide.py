"""GraphiQL page for the gateway, served entirely from local static assets.

The page is strawberry's ``static/graphiql.html`` (same GraphiQL, React,
js-cookie and explorer-plugin versions, byte-identical files) with every asset
served by the gateway itself from ``gateway/static/graphiql/`` — nothing is
loaded from a CDN or any other host. ``scripts/vendor-graphiql.sh`` refreshes
the vendored files.

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
import pathlib

__all__ = ["DEFAULT_QUERY", "IDE_TITLE", "STATIC_DIR", "render_ide_html"]

#: The ``gateway/static`` folder; mount it at ``/static`` (``assets_path`` below
#: then defaults to its ``graphiql`` sub-folder).
STATIC_DIR: pathlib.Path = pathlib.Path(__file__).resolve().parent / "static"

IDE_TITLE = "Territoires en Commun — GraphQL"

#: Query shown in the editor when the URL carries no ``?q=``.
DEFAULT_QUERY = """\
# Territoires en Commun — explorateur GraphQL
#
# Exécuter : Ctrl-Entrée (ou le bouton ▶).
# Requête authentifiée : onglet « Headers » en bas, par exemple
#   {"Authorization": "Bearer <jeton>"}

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

# Load order matters: React, ReactDOM and js-cookie are globals that
# graphiql.min.js and the explorer plugin expect.
_STYLESHEETS = ("graphiql.min.css", "graphiql-plugin-explorer.css", "ide.css")
_SCRIPTS_HEAD = ("react.production.min.js", "react-dom.production.min.js", "js.cookie.min.js")
_SCRIPTS_BODY = ("graphiql.min.js", "graphiql-plugin-explorer.js")

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
    <div id="graphiql" class="graphiql-container">Chargement…</div>
{body_scripts}
    <script
      id="tec-graphiql-boot"
      src="{assets}/boot.js"
      data-graphql-path="{graphql_path}"
      data-default-query="{default_query}"
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
    )
