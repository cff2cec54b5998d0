"""Pages out as Shift_JIS, forms in as Shift_JIS, like the systems built for IE6.

A browser posts a form in the charset of the page it came from, so every POST body here is percent-encoded
Shift_JIS (Windows-31J in practice, hence cp932).
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PAGE_ENCODING = "cp932"
CONTENT_TYPE = "text/html; charset=Shift_JIS"

_env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


def render(template: str, status_code: int = 200, **context: object) -> Response:
    html = _env.get_template(template).render(**context)
    # Characters outside Shift_JIS (外字 and friends) go out as character references, as IE-era servers did.
    body = html.encode(PAGE_ENCODING, errors="xmlcharrefreplace")
    return Response(content=body, status_code=status_code, headers={"Content-Type": CONTENT_TYPE})


async def read_form(request: Request) -> dict[str, str]:
    body = await request.body()
    pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding=PAGE_ENCODING, errors="replace")
    return dict(pairs)
