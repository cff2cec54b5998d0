"""The `taxintake` command: one entry point, each subcommand delegating to the module that owns the work."""
from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> (module, help). Each module has `add_arguments(parser)` and `run(args) -> int`.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "read": ("taxintake.commands.read", "read scans into read-result JSON files (no ledger, no entry)"),
    "samples": ("samples.cli", "make blank forms and synthetic filled scans with ground truth"),
    "legacy-sim": ("legacy_sim.server", "start the stand-in legacy tax web system"),
    "intake": ("taxintake.commands.intake", "read a folder of scans into the ledger (a Prefect flow run)"),
    "enter": ("taxintake.commands.enter", "enter READY forms into the legacy system with the robots"),
    "summary": ("taxintake.commands.summary", "print a batch's summary"),
    "report": ("taxintake.commands.report", "a batch's report: hours saved with its assumptions, xlsx/csv/chart"),
    "review": ("review.server", "start the supervisors' review page (確認画面)"),
    "user": ("review.users_cli", "add or list the users of the review page"),
    "watch": ("taxintake.commands.watch", "watch the inbox; each complete drop is read as one batch"),
    "serve": ("taxintake.commands.serve", "start the local Prefect server and serve the deployments "
                                          "(watch, enter every 5 min, nightly 02:00 JST)"),
    "deploy": ("taxintake.commands.deploy", "register the deployments on a work pool (several machines)"),
    "audit": ("taxintake.commands.audit", "verify the keyed hash chain of the audit trail (audit verify, rekey)"),
    "keys": ("taxintake.commands.keys", "個人番号 keys: new, status, rotate (re-encrypt, audited)"),
    "backup": ("taxintake.commands.backup", "back the ledger and the archive up into a folder, with a manifest"),
    "restore": ("taxintake.commands.restore", "restore a backup folder into a ledger and an archive"),
    "retention": ("taxintake.commands.retention", "delete page images and crops older than N days, keeping audit rows"),
    "calibrate": ("taxintake.commands.calibrate",
                  "re-fit each kind's calibration and threshold from reviewed and audited fields in the ledger"),
    "template": ("taxintake.commands.template",
                 "make, check and try a form's template: template new --blank FILE / check / try SCAN…"),
    "export-labelled": ("taxintake.commands.export_labelled",
                        "export reviewed fields' crops and agreed values as a labelled set (within retention)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taxintake", description="AI-OCR + RPA for municipal tax forms")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module_name)
        # Import lazily so that `taxintake read` never pays for Prefect or Playwright imports.
        if name in _requested_command():
            importlib.import_module(module_name).add_arguments(sub_parser)
    return parser


def _requested_command() -> set[str]:
    return {arg for arg in sys.argv[1:2]}


def main(argv: list[str] | None = None) -> int:
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:])
    module = importlib.import_module(args._module)
    return int(module.run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
