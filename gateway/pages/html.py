"""The frame of the gateway's small HTML pages (newsletters, account links): French, one
inline style sheet, no script, never cached."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

_STYLE = (
    "body{font-family:Arial,Helvetica,sans-serif;max-width:40rem;margin:2rem auto;"
    "padding:0 1rem;color:#1e1e1e}h1{color:#000091}a{color:#000091}"
    "button{background:#000091;color:#fff;border:0;padding:.6rem 1rem;font-size:1rem}"
)


def page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    """A page titled ``title`` around ``body`` (HTML the caller escaped)."""
    html = (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
