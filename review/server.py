"""`taxintake review --port P`: start the review page (uvicorn) over the configured ledger and archive."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8780, help="port to listen on (default 8780)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; put TLS in front for other machines)")
    parser.add_argument("--blind", default=None, metavar="KINDS",
                        help="kinds entered blind (ベリファイ), e.g. my_number,amount "
                             "(default: TAXINTAKE_REVIEW_BLIND_KINDS, else none)")
    parser.add_argument("--insecure-cookies", action="store_true",
                        help="send the session cookie over plain http to a host other than localhost (testing only)")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from review.app import create_app
    from review.settings import settings_from_environment

    settings = settings_from_environment(blind_kinds=args.blind, secure_cookies=not args.insecure_cookies)
    app = create_app(settings)
    print(f"確認画面 / review page: http://{args.host}:{args.port}/  (ledger {settings.ledger_url.split('://')[0]}, "
          f"blind: {','.join(sorted(settings.blind_kinds)) or 'none'})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0
