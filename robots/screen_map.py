"""The screen map: everything the robot knows about one target system, loaded from `robots/screens/*.yaml`.

Selectors, paths, frame names, value formats, era and choice codes all live in the YAML; the Python code holds
none of them, so pointing the robot at another system means writing another screen map.
"""
from __future__ import annotations

import re
import string
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SCREENS_DIR = Path(__file__).resolve().parent / "screens"
DEFAULT_SCREEN_MAP = SCREENS_DIR / "legacy_sim.yaml"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser where libyaml is there: 10× faster

ValueFormat = Literal["text", "digits", "amount", "signed_amount", "hankaku_kana", "wareki_date", "choice",
                      "checkbox", "implied", "looked_up"]

# The placeholders a value of each format offers to input and read-back templates.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "text": frozenset({"value"}),
    "digits": frozenset({"value"}),
    "amount": frozenset({"value", "commas"}),
    "signed_amount": frozenset({"value", "commas", "triangle"}),
    "checkbox": frozenset({"value", "mark"}),
    "looked_up": frozenset({"value"}),
    "hankaku_kana": frozenset({"value"}),
    "wareki_date": frozenset({"value", "era_code", "era_name", "era_letter", "yy", "mm", "dd", "y", "m", "d"}),
    "choice": frozenset({"value", "code", "label"}),
    "implied": frozenset(),
}


class ScreenMapError(ValueError):
    """A screen map that cannot be used, with the file and the place named."""


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(_Strict):
    navigation_ms: int = Field(15000, gt=0)
    action_ms: int = Field(5000, gt=0)


class LoginScreen(_Strict):
    path: str
    form: str = Field(description="present only on the login page: seeing it anywhere means the session is gone")
    user: str
    password: str
    submit: str
    failed: str = Field(description="the message shown when the login is refused")
    home_path: str = Field(description="where a successful login lands")


class Frames(_Strict):
    menu: str
    work: str


class Menu(_Strict):
    ready: str = Field(description="an item the menu frame shows when it stands as it should")
    logout: str | None = None


class ErrorMarkers(_Strict):
    screen_flow: str = Field(description="the system's 'invalid screen flow' page: start the screen again")
    transient: str = Field(description="a message that goes away when tried later (record lock and the like)")
    maintenance: str = Field(description="the system is closed for its night batch: stop, try in a later run")


class InputStep(_Strict):
    control: Literal["fill", "select", "radio", "check"]
    selector: str = Field(description="may hold placeholders, e.g. a radio button by its code")
    value: str = "{value}"


class Readback(_Strict):
    selector: str
    expect: str = "{value}"


class ChoiceOption(_Strict):
    code: str
    label: str


class FieldMap(_Strict):
    format: ValueFormat
    inputs: list[InputStep] = Field(default_factory=list)
    max_length: int | None = Field(None, gt=0, description="the system cuts longer text without a word")
    pattern: str | None = Field(None, description="a regex the converted value must match in full")
    options: dict[str, ChoiceOption] | None = None
    readback: Readback | None = None
    implied_by: str | None = None
    sensitive: bool = Field(False, description="特定個人情報 and the like: never logged, only masked")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            re.compile(pattern)
        return pattern

    @model_validator(mode="after")
    def _consistent(self) -> "FieldMap":
        if self.format == "choice" and not self.options:
            raise ValueError("a choice field needs options")
        if self.format == "implied":
            if not self.implied_by or self.inputs or self.readback:
                raise ValueError("an implied field names implied_by and has no inputs or read-back")
        elif not self.inputs:
            raise ValueError("a field needs at least one input step")
        allowed = PLACEHOLDERS[self.format]
        templates = [step.selector for step in self.inputs] + [step.value for step in self.inputs]
        if self.readback:
            templates.append(self.readback.expect)
        for template in templates:
            unknown = _placeholders(template) - allowed
            if unknown:
                raise ValueError(f"{sorted(unknown)} are not placeholders of a {self.format} value "
                                 f"(known: {sorted(allowed)})")
        return self


class EntryScreen(_Strict):
    menu: str = Field(description="the menu item that opens the entry screen")
    ready: str
    submit: str
    completed: str
    receipt: str
    receipt_pattern: str
    errors: str
    duplicate_warning: str


class ReceiptSearch(_Strict):
    input: str
    submit: str


class PersonSearch(_Strict):
    fields: list[str] = Field(description="entry fields whose values search; their inputs are in `inputs`")
    inputs: dict[str, list[InputStep]]
    submit: str

    @model_validator(mode="after")
    def _inputs_for_each_field(self) -> "PersonSearch":
        if set(self.fields) != set(self.inputs):
            raise ValueError("person search: `fields` and `inputs` must name the same fields")
        return self


class InquiryScreen(_Strict):
    menu: str = Field(description="the menu item that opens the inquiry screen")
    ready: str
    by_receipt: ReceiptSearch
    by_person: PersonSearch
    no_hits: str
    errors: str
    result_rows: str
    result_receipt: str
    result_columns: dict[str, str] = Field(
        description="field -> cell in a result row; a hit whose cells all show our values is the same 届出")
    detail: str


class Lookup(_Strict):
    """A register searched before entry (宛名, 法人): exactly one hit, or the form goes back to people."""
    label: str = Field(description="what is looked up, in the reasons people read (宛名, 法人)")
    menu: str
    ready: str
    inputs: dict[str, list[InputStep]] = Field(description="entry field -> the steps that type it as a search key")
    submit: str
    errors: str
    no_hits: str
    rows: str
    capture: dict[str, str] = Field(description="looked_up field -> the cell of the one hit that holds it")
    confirm: dict[str, str] = Field(default_factory=dict,
                                    description="entry field -> cell that must show the same text (spaces aside)")


class FormScreens(_Strict):
    template_versions: list[str] | None = Field(
        default=None, description="the template versions (年分/様式) these screens take; None: every version")
    lookups: list[Lookup] = Field(default_factory=list)
    entry: EntryScreen
    inquiry: InquiryScreen
    fields: dict[str, FieldMap]

    @model_validator(mode="after")
    def _references_resolve(self) -> "FormScreens":
        captured = {name for lookup in self.lookups for name in lookup.capture}
        for name, spec in self.fields.items():
            if spec.implied_by and spec.implied_by not in self.fields:
                raise ValueError(f"{name}: implied_by names unknown field {spec.implied_by!r}")
            if (spec.format == "looked_up") != (name in captured):
                raise ValueError(f"{name}: a looked_up field is one a lookup captures, and only that")
        for lookup in self.lookups:
            for name in [*lookup.inputs, *lookup.confirm]:
                if name not in self.fields or self.fields[name].format == "looked_up":
                    raise ValueError(f"lookup {lookup.label}: {name!r} must be an entry field of the form")
        for name in [*self.inquiry.by_person.fields, *self.inquiry.result_columns]:
            spec = self.fields.get(name)
            if spec is None or spec.readback is None:
                raise ValueError(f"inquiry: {name!r} must be an entry field with a read-back")
        return self


class ScreenMap(_Strict):
    system: str
    charset: str = Field(description="what the screens can carry; other characters (外字) go to people")
    accept_dialogs: list[str] = Field(description="confirm texts the robot answers OK; any other is cancelled")
    closed_hours: list[str] = Field(default_factory=list,
                                    description="HH:MM-HH:MM windows (local time) when the system takes no entry")
    timeouts: Timeouts = Timeouts()
    login: LoginScreen
    frames: Frames
    menu: Menu
    errors: ErrorMarkers
    era_codes: dict[str, str]
    forms: dict[str, FormScreens]

    @field_validator("charset")
    @classmethod
    def _known_codec(cls, charset: str) -> str:
        try:
            "".encode(charset)
        except LookupError:
            raise ValueError(f"unknown charset {charset!r}") from None
        return charset

    @field_validator("closed_hours")
    @classmethod
    def _windows_parse(cls, windows: list[str]) -> list[str]:
        for window in windows:
            parse_window(window)
        return windows

    def closed_at(self, moment: time) -> str | None:
        """The closed window `moment` falls in, if any."""
        for window in self.closed_hours:
            start, end = parse_window(window)
            inside = start <= moment < end if start <= end else (moment >= start or moment < end)
            if inside:
                return window
        return None

    @model_validator(mode="after")
    def _dates_have_codes(self) -> "ScreenMap":
        for form_id, form in self.forms.items():
            if any(spec.format == "wareki_date" for spec in form.fields.values()) and not self.era_codes:
                raise ValueError(f"{form_id}: 和暦 dates need era_codes")
        return self


def parse_window(window: str) -> tuple[time, time]:
    start, dash, end = window.partition("-")
    try:
        if not dash:
            raise ValueError
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError:
        raise ValueError(f"closed_hours: {window!r} is not HH:MM-HH:MM") from None


@lru_cache(maxsize=8)
def _load_cached(path: Path, mtime: float) -> ScreenMap:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError) as error:
        raise ScreenMapError(f"{path}: {error}") from error
    try:
        return ScreenMap.model_validate(data)
    except ValidationError as error:
        raise ScreenMapError(f"{path}: {error}") from error


def load_screen_map(path: Path | None = None) -> ScreenMap:
    path = (path or DEFAULT_SCREEN_MAP).resolve()
    return _load_cached(path, path.stat().st_mtime)
