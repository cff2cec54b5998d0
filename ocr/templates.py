"""Form templates: load and validate `form_templates/<form_id>/template.yaml`.

A template is data only. This module turns it into typed objects and refuses a broken one with a message that
names the file and the field, so that a typo in a template never becomes a silent misread.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from ocr.rules import ParsedRule, RuleSyntaxError, parse_rule

TEMPLATES_ROOT = Path(__file__).resolve().parent.parent / "form_templates"
# A city's own template folders (os.pathsep-separated), searched before the bundled ones: they survive an upgrade.
TEMPLATES_PATH_ENV = "TAXINTAKE_TEMPLATES"

FieldKind = Literal[
    "text", "kana", "digits", "amount", "date_wareki", "era", "checkbox", "choice",
    "my_number", "corporate_number", "phone", "postal_code",
]
Box = tuple[float, float, float, float]

ERAS = ("明治", "大正", "昭和", "平成", "令和")


class TemplateError(ValueError):
    """A template file that cannot be used, with the file and field named."""


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    label: str
    box: Box = Field(description="[x, y, w, h] in mm from the page's top-left")
    label_box: Box | None = None
    kind: FieldKind
    cells: int | None = None
    preprinted_suffix: str | None = None
    preprinted_text: str | None = Field(
        default=None, description="text printed inside the box on the blank form, e.g. 令和　年　月　日 or 円")
    options: list[str] | None = Field(default=None, description="values of a choice or era field")
    option_labels: list[str] | None = Field(default=None, description="what is printed for each option")
    era_field: str | None = Field(default=None, description="for date_wareki: the era field giving the era")
    era: str | None = Field(default=None, description="for date_wareki: an era printed on the form")
    required: bool = False
    validators: list[str] = Field(default_factory=list)
    content: Literal["address", "person_name", "organisation_name", "bank_account", "code", "terms"] | None = Field(
        default=None, description="what a text field holds: sets which characters are plausible in it")
    vocabulary: list[str] | None = Field(
        default=None, description="for content 'terms': the words the field is written with on real forms")
    dividers_mm: list[float] | None = Field(
        default=None, description="x (mm) of rulings printed through the box: the 千 and 円 of an amount, the 年 月 日 "
                                  "of a date; each part is written and read on its own")
    guessed: list[str] = Field(
        default_factory=list, description="what `template new` guessed and nobody has confirmed yet: name, label, kind")

    @field_validator("name")
    @classmethod
    def _snake_case(cls, name: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ValueError(f"field name {name!r} must be snake_case romaji")
        return name

    @model_validator(mode="after")
    def _consistent(self) -> "FieldSpec":
        x, y, w, h = self.box
        if w <= 0 or h <= 0:
            raise ValueError(f"{self.name}: box width and height must be positive")
        if self.kind in ("choice", "era"):
            if not self.options:
                raise ValueError(f"{self.name}: a {self.kind} field needs options")
            if self.option_labels is not None and len(self.option_labels) != len(self.options):
                raise ValueError(f"{self.name}: option_labels must match options one for one")
        if self.kind == "era" and any(o not in ERAS for o in self.options or []):
            raise ValueError(f"{self.name}: era options must be among {ERAS}")
        if self.kind == "my_number" and self.cells not in (None, 12):
            raise ValueError(f"{self.name}: a 個人番号 has 12 cells")
        if self.kind == "corporate_number" and self.cells not in (None, 13):
            raise ValueError(f"{self.name}: a 法人番号 has 13 cells")
        if self.kind == "date_wareki" and not (self.era_field or self.era):
            raise ValueError(f"{self.name}: a date_wareki field needs era_field or a printed era")
        return self

    def cell_boxes(self) -> list[Box]:
        """The printed digit cells, equal widths across the box."""
        if not self.cells:
            return []
        x, y, w, h = self.box
        cell_w = w / self.cells
        return [(x + i * cell_w, y, cell_w, h) for i in range(self.cells)]

    def option_boxes(self) -> list[Box]:
        """Where each option of a choice or era field is printed: equal slots across the box."""
        if not self.options:
            return []
        x, y, w, h = self.box
        slot_w = w / len(self.options)
        return [(x + i * slot_w, y, slot_w, h) for i in range(len(self.options))]

    def part_boxes(self) -> list[Box]:
        """The parts of a box cut by its printed dividers, left to right (the whole box when it has none)."""
        x, y, w, h = self.box
        edges = [x, *(self.dividers_mm or []), x + w]
        return [(left, y, right - left, h) for left, right in zip(edges, edges[1:])]

    def printed_option_labels(self) -> list[str]:
        return list(self.option_labels or self.options or [])

    def preprinted_text_layout(self) -> tuple[float, float, float]:
        """(left x, top y, character size) in mm of the text printed inside the box: 「円」 flush right,
        date labels from the left. The drawing of the blank and the reading of the field share this layout."""
        x, y, w, h = self.box
        size = min(3.6, h * 0.42)
        top = y + (h - size) / 2
        if self.kind == "amount":
            return x + w - 1.5 - size * len(self.preprinted_text or ""), top, size
        return x + 2.0, top, size

    def printed_era_width(self) -> float:
        """Width in mm, from the box's left, of an era printed at the start of the box (「令和」), or 0."""
        text = self.preprinted_text or ""
        if not (self.era and text.startswith(self.era)):
            return 0.0
        left, _, size = self.preprinted_text_layout()
        return left - self.box[0] + size * len(self.era)


class PageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    width_mm: float
    height_mm: float


class TextDecoration(BaseModel):
    """Printed text that is not a field label: the title, section headings, notes."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str
    at: tuple[float, float]
    size_mm: float = 3.5
    bold: bool = False


class LineDecoration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rect: Box
    width_mm: float = 0.3


class CrossFieldRule(BaseModel):
    """A relation between fields, in the grammar of `ocr.rules`: `michoshu = nenzei - choshuzumi`,
    `uchi <= total`, `after_deduction = kyuyo_shotoku(payment, nenbun)`.

    `when` limits a rule to forms whose choice fields hold one of the listed options (`choshu_hoho: [一括徴収]`);
    `requires` names fields that must then be filled, `forbids` fields that must then be blank. A rule has an
    `expression`, or `requires`/`forbids`, or both."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    expression: str | None = None
    message: str
    blank_as_zero: list[str] = Field(
        default_factory=list, description="fields a blank of which counts as 0 (a table line with nothing to add)")
    when: dict[str, list[str]] = Field(
        default_factory=dict, description="choice field -> the options under which the rule applies")
    requires: list[str] = Field(default_factory=list, description="fields that must be filled when the rule applies")
    forbids: list[str] = Field(default_factory=list, description="fields that must be blank when the rule applies")

    @field_validator("expression")
    @classmethod
    def _parses(cls, expression: str | None) -> str | None:
        if expression is None:
            return None
        try:
            parse_rule(expression)
        except RuleSyntaxError as exc:
            raise ValueError(str(exc)) from exc
        return expression

    @model_validator(mode="after")
    def _says_something(self) -> "CrossFieldRule":
        if self.expression is None and not (self.requires or self.forbids):
            raise ValueError(f"cross-field rule {self.name}: needs an expression, requires or forbids")
        return self

    def parsed(self) -> ParsedRule | None:
        return parse_rule(self.expression) if self.expression is not None else None

    def names(self) -> list[str]:
        """Every field the rule reads: its condition's, its expression's, those it requires or forbids."""
        parsed = self.parsed()
        found = list(self.when) + (parsed.names() if parsed else []) + self.requires + self.forbids
        return list(dict.fromkeys(found))


class OfficialFace(BaseModel):
    """Where a template's blank comes from when it is an official form rasterised, not drawn from the template."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    pdf: str
    source: str
    sha256: str
    page: int
    copy_on_page: str
    width_mm: float
    title_box: Box | None = None


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    form_id: str
    title: str
    version: str
    page: PageSpec
    dpi: int = 200
    blank_image: str = "blank.png"
    official_face: OfficialFace | None = None
    decorations: list[TextDecoration] = Field(default_factory=list)
    lines: list[LineDecoration] = Field(default_factory=list)
    fields: list[FieldSpec]
    cross_field_rules: list[CrossFieldRule] = Field(default_factory=list)
    version_marks: list[str] = Field(
        default_factory=list, description="what the page prints for this version (令和7年分, 様式第5号): with several "
                                          "versions of one form installed, the title band's reading picks the version")
    title_band: Box | None = Field(default=None, description="[x, y, w, h] mm of the printed title, read for the version")
    parameters: dict[str, int] = Field(
        default_factory=dict, description="constants the rules use, e.g. nenbun (年分, Western year) or a tax rate")
    name_kana_pairs: list[tuple[str, str]] = Field(
        default_factory=list,
        description="[name_field, kana_field] of a person's 氏名 and its フリガナ: the kana is checked against the "
                    "name's dictionary readings and must separate family and given name with one space")

    @model_validator(mode="after")
    def _fields_fit(self) -> "Template":
        names = [f.name for f in self.fields]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"duplicate field names: {sorted(dupes)}")
        for f in self.fields:
            x, y, w, h = f.box
            if x < 0 or y < 0 or x + w > self.page.width_mm or y + h > self.page.height_mm:
                raise ValueError(f"{f.name}: box {f.box} lies outside the {self.page.width_mm}×{self.page.height_mm} mm page")
            if f.era_field and f.era_field not in names:
                raise ValueError(f"{f.name}: era_field {f.era_field!r} is not a field of this template")
        for name_field, kana_field in self.name_kana_pairs:
            for pair_field, kind in ((name_field, "text"), (kana_field, "kana")):
                if pair_field not in names:
                    raise ValueError(f"name_kana_pairs: {pair_field!r} is not a field of this template")
                if self.field(pair_field).kind != kind:
                    raise ValueError(f"name_kana_pairs: {pair_field!r} must be a {kind} field")
        for rule in self.cross_field_rules:
            parsed = rule.parsed()
            if parsed is not None and parsed.target not in names:
                raise ValueError(f"cross-field rule {rule.name}: {parsed.target!r} is not a field of this template")
            for name in parsed.names() if parsed else []:
                if name not in names and name not in self.parameters:
                    raise ValueError(f"cross-field rule {rule.name}: {name!r} is neither a field nor a parameter")
            for name in rule.blank_as_zero:
                if parsed is None or name not in parsed.names():
                    raise ValueError(f"cross-field rule {rule.name}: blank_as_zero {name!r} is not in the rule")
            for name, options in rule.when.items():
                if name not in names or self.field(name).kind not in ("choice", "era"):
                    raise ValueError(f"cross-field rule {rule.name}: when {name!r} is not a choice field")
                unknown = [o for o in options if o not in (self.field(name).options or [])]
                if unknown:
                    raise ValueError(f"cross-field rule {rule.name}: {unknown} are not options of {name}")
            for name in rule.requires + rule.forbids:
                if name not in names:
                    raise ValueError(f"cross-field rule {rule.name}: {name!r} is not a field of this template")
        return self

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    _folder: Path | None = PrivateAttr(default=None)

    @property
    def folder(self) -> Path:
        return self._folder or TEMPLATES_ROOT / self.form_id

    def blank_path(self) -> Path:
        return self.folder / self.blank_image

    def mm_to_px(self, value_mm: float, dpi: int | None = None) -> float:
        return value_mm * (dpi or self.dpi) / 25.4

    def page_size_px(self, dpi: int | None = None) -> tuple[int, int]:
        return (round(self.mm_to_px(self.page.width_mm, dpi)), round(self.mm_to_px(self.page.height_mm, dpi)))


def load_template_file(path: Path) -> Template:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"{path}: cannot read the template: {exc}") from exc
    try:
        template = Template.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _describe_location(raw, err["loc"])
            problems.append(f"{where}: {err['msg']}")
        raise TemplateError(f"{path}: invalid template:\n  " + "\n  ".join(problems)) from exc
    template._folder = path.resolve().parent
    return template


def _describe_location(raw: object, loc: tuple) -> str:
    """Name the field by its `name`, not by its list index, where the error sits inside a field."""
    parts = []
    node = raw
    for key in loc:
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
            label = node.get("name") if isinstance(node, dict) else None
            parts.append(f"[{key}]" + (f" ({label})" if label else ""))
        elif isinstance(node, dict) and key in node:
            node = node[key]
            parts.append(str(key))
        else:
            parts.append(str(key))
    return ".".join(parts) or "template"


def template_roots() -> list[Path]:
    """Where templates are looked for, first found first: TAXINTAKE_TEMPLATES's folders, then the bundled one."""
    extra = [Path(part) for part in os.environ.get(TEMPLATES_PATH_ENV, "").split(os.pathsep) if part.strip()]
    return [*extra, TEMPLATES_ROOT]


def installed_templates() -> list[Template]:
    """Every installed (form, version): `<root>/<form_id>/template.yaml` or `<root>/<form_id>/<version>/template.yaml`.
    A (form, version) found in an earlier root hides the same one further on."""
    return list(_installed(tuple(str(root) for root in template_roots())))


@lru_cache(maxsize=8)
def _installed(roots: tuple[str, ...]) -> tuple[Template, ...]:
    found: dict[tuple[str, str], Template] = {}
    for root in roots:
        for path in sorted([*Path(root).glob("*/template.yaml"), *Path(root).glob("*/*/template.yaml")]):
            template = load_template_file(path)
            found.setdefault((template.form_id, template.version), template)
    return tuple(found.values())


def template_versions(form_id: str) -> list[Template]:
    """The installed versions of one form, the first-found (the default one) first."""
    return [t for t in installed_templates() if t.form_id == form_id]


def load_template(form_id: str, version: str | None = None) -> Template:
    """The form's template: the given version, or (none given) the first found on the search path."""
    roots = tuple(str(root) for root in template_roots())
    if version is None and roots == (str(TEMPLATES_ROOT),):
        return _bundled_template(form_id)  # the common case: no city folders, one file to read
    versions = [t for t in _installed(roots) if t.form_id == form_id]
    chosen = next((t for t in versions if version is None or t.version == version), None)
    if chosen is None:
        if version is not None and versions:
            raise TemplateError(f"{form_id}: 版 {version} のテンプレートはありません / version {version} is not installed "
                                f"(installed: {', '.join(t.version for t in versions)})")
        return _bundled_template(form_id)
    return chosen


def clear_template_cache() -> None:
    """Forget what was read: after a template is saved or installed while the process runs."""
    _installed.cache_clear()
    _bundled_template.cache_clear()


@lru_cache(maxsize=None)
def _bundled_template(form_id: str) -> Template:
    return load_template_file(TEMPLATES_ROOT / form_id / "template.yaml")


def available_form_ids() -> list[str]:
    return sorted({t.form_id for t in installed_templates()})
