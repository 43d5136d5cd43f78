"""The minimal login + consent page of the embedded AS. Everything user-supplied is escaped."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

# The page must never be framed (clickjacking the consent button) nor cached.
_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def login_page(
    *, request_token: str, client_name: str, redirect_uri: str, scopes: list[str], error: str | None = None
) -> HTMLResponse:
    scope_items = "".join(f"<li><code>{escape(s)}</code></li>" for s in scopes) or "<li>(none)</li>"
    problem = f'<p role="alert" style="color:#b00">{escape(error)}</p>' if error else ""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mcphub: sign in</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto">
<h1>Sign in to mcphub</h1>
<p><strong>{escape(client_name)}</strong> wants access to these scopes:</p>
<ul>{scope_items}</ul>
<p>It will be sent back to <code>{escape(redirect_uri)}</code>.</p>
{problem}
<form method="post">
<input type="hidden" name="request" value="{escape(request_token)}">
<p><label>User <input name="username" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"
required></label></p>
<p><button name="action" value="approve">Allow</button>
<button name="action" value="deny" formnovalidate>Deny</button></p>
</form></body></html>"""
    return HTMLResponse(body, status_code=401 if error else 200, headers=_HEADERS)


def error_page(message: str, status: int = 400) -> HTMLResponse:
    body = f"<!doctype html><title>mcphub: error</title><h1>Authorization failed</h1><p>{escape(message)}</p>"
    return HTMLResponse(body, status_code=status, headers=_HEADERS)
