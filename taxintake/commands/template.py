"""`taxintake template new|check|try`: make a form's template from its blank, check it, try it on filled scans."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="template_command", required=True)
    new = sub.add_parser("new", help="draft a template from a blank form (PDF page or scan)")
    new.add_argument("form_id", help="the form's id, snake_case (e.g. city_ido_todoke)")
    new.add_argument("--blank", type=Path, required=True, help="the blank form: a PDF or a scan")
    new.add_argument("--page", type=int, default=1, help="which page of the file (default 1)")
    new.add_argument("--dpi", type=int, default=200, help="the template's dpi (default 200)")
    new.add_argument("--out", type=Path, default=None,
                     help="folder for the draft (default: <first TAXINTAKE_TEMPLATES folder>/<form_id>)")
    new.add_argument("--engine", default="rapidocr", help="recogniser for the printed labels")
    check = sub.add_parser("check", help="draw the boxes over the blank and report problems")
    check.add_argument("form_id")
    check.add_argument("--version", default=None, help="which installed version (default: the first found)")
    check.add_argument("--out", type=Path, default=None, help="the overlay PNG (default <form_id>_check.png)")
    trial = sub.add_parser("try", help="read filled scans with the template: per field crop, reading, status")
    trial.add_argument("form_id")
    trial.add_argument("scans", nargs="+", type=Path)
    trial.add_argument("--version", default=None)
    trial.add_argument("--sheet", type=Path, default=None, help="the HTML sheet (default <form_id>_try.html)")
    trial.add_argument("--engine", default="rapidocr")


def run(args: argparse.Namespace) -> int:
    return {"new": _new, "check": _check, "try": _try}[args.template_command](args)


def _new(args: argparse.Namespace) -> int:
    from ocr.recognize import make_recognizer
    from ocr.template_draft import blank_from_file, draft_template, write_draft
    from ocr.templates import TEMPLATES_PATH_ENV
    from taxintake.config import city_templates_folder

    folder = args.out or (city_templates_folder() / args.form_id if city_templates_folder() else None)
    if folder is None:
        print(f"保存先がありません: --out か {TEMPLATES_PATH_ENV} を指定してください / "
              f"give --out or set {TEMPLATES_PATH_ENV}", file=sys.stderr)
        return 2
    grey, provenance = blank_from_file(args.blank, args.dpi, args.page)
    draft = draft_template(grey, args.dpi, args.form_id, make_recognizer(args.engine), provenance)
    path = write_draft(draft, folder)
    cells = sum(1 for f in draft.fields if f.cells)
    print(f"下書きを作成しました: 項目 {len(draft.fields)}（うち桁枠 {cells}）→ {path}\n"
          f"drafted {len(draft.fields)} fields ({cells} rows of digit cells) → {path}\n"
          "名前・種類は推定です（guessed）。編集画面か YAML で確認してください / names and kinds are guesses: check them")
    return 0


def _located(form_id: str, version: str | None):
    from ocr.templates import load_template

    return load_template(form_id, version)


def _check(args: argparse.Namespace) -> int:
    import cv2
    import yaml

    from ocr.template_check import check_fields, overlay
    from ocr.templates import TemplateError, load_template_file

    try:
        template = _located(args.form_id, args.version)
        folder = template.folder
    except TemplateError as exc:
        # An invalid template is still drawn and checked: its YAML is found by folder.
        folder = next((Path(p) for p in _folders_of(args.form_id)), None)
        if folder is None:
            print(str(exc), file=sys.stderr)
            return 2
    raw = yaml.safe_load((folder / "template.yaml").read_text(encoding="utf-8"))
    blank = cv2.imread(str(folder / raw.get("blank_image", "blank.png")), cv2.IMREAD_GRAYSCALE)
    page = raw["page"]
    findings = check_fields(raw.get("fields", []), (page["width_mm"], page["height_mm"]), blank, raw.get("dpi", 200))
    problems = []
    try:
        load_template_file(folder / "template.yaml")
    except TemplateError as exc:
        problems.append(str(exc))
    out = args.out or Path(f"{args.form_id}_check.png")
    cv2.imwrite(str(out), overlay(blank, raw.get("fields", []), raw.get("dpi", 200), findings))
    for finding in findings:
        print(f"  {finding.message}")
    for problem in problems:
        print(f"  {problem}")
    count = len(findings) + len(problems)
    print(f"{'問題なし' if not count else f'問題 {count} 件'} / {count} problem(s): "
          f"{len(raw.get('fields', []))} 項目, 重ね図 overlay → {out}")
    return 1 if count else 0


def _folders_of(form_id: str) -> list[Path]:
    from ocr.templates import template_roots

    found = []
    for root in template_roots():
        found += [p.parent for p in [*root.glob(f"{form_id}/template.yaml"), *root.glob(f"{form_id}/*/template.yaml")]]
    return found


def _try(args: argparse.Namespace) -> int:
    from ocr.recognize import make_recognizer
    from ocr.template_check import trial_sheet_html, trial_table, try_template

    template = _located(args.form_id, args.version)
    recognizer = make_recognizer(args.engine)
    pages = [page for scan in args.scans for page in try_template(scan, template, recognizer)]
    print(trial_table(pages))
    sheet = args.sheet or Path(f"{args.form_id}_try.html")
    sheet.write_text(trial_sheet_html(template, pages), encoding="utf-8")
    read = [p for p in pages if not p.error]
    flagged = sum(1 for p in read for r in p.rows if r.status == "review")
    print(f"試し読み {len(pages)} ページ（読めないページ {len(pages) - len(read)}）, 要確認 {flagged} 項目 → {sheet}\n"
          f"tried {len(pages)} pages ({len(pages) - len(read)} unreadable), {flagged} fields flagged → {sheet}")
    return 0 if read else 1
