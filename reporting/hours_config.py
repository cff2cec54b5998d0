"""Configuration of the hours-saved model: defaults in `hours_model.yaml` beside this file, overridable per city."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_HOURS_MODEL = Path(__file__).resolve().parent / "hours_model.yaml"
HOURS_MODEL_ENV = "TAXINTAKE_HOURS_MODEL"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImeModel(_Strict):
    romaji_keys_per_kana: float = Field(ge=0)
    keys_per_converted_segment: float = Field(ge=0)
    kana_field_conversion_keys: float = Field(ge=0)
    name_choice_keys: float = Field(ge=0)
    name_choice_mental: float = Field(ge=0)


class KeystrokeModel(_Strict):
    key_seconds: float = Field(gt=0)
    mental_seconds: float = Field(ge=0)
    navigation_keys_per_field: float = Field(ge=0)
    per_form_overhead_seconds: float = Field(ge=0)
    verification_share: float = Field(ge=0)
    ime: ImeModel
    name_field_patterns: list[str]


class ExceptionModel(_Strict):
    entry_failure_seconds: float = Field(ge=0)
    quarantine_seconds: float = Field(ge=0)
    pending_review_seconds_per_field: float = Field(ge=0)


class FormSettings(_Strict):
    label: str
    label_en: str = ""
    yearly_volume: int | None = Field(default=None, ge=0)


class ChibaFigures(_Strict):
    form_id: str
    yearly_volume: int = Field(gt=0)
    achieved_hours_per_year: float
    possible_hours_per_year: float


class HoursModelConfig(_Strict):
    keystroke: KeystrokeModel
    exceptions: ExceptionModel
    not_keyed_fields: dict[str, list[str]] = Field(default_factory=dict)
    forms: dict[str, FormSettings]
    chiba: ChibaFigures
    sources: dict[str, str] = Field(default_factory=dict, description="dotted setting name → where its value is from")
    source: str = Field(default="reporting/hours_model.yaml", description="the file(s) these values came from")

    def form_label(self, form_id: str | None) -> str:
        if form_id is None:
            return "分類不能"
        settings = self.forms.get(form_id)
        return settings.label if settings else form_id


class HoursModelError(ValueError):
    """A hours-model file that cannot be used, with the file named."""


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise HoursModelError(f"削減時間モデルの設定を読めません / cannot read hours model {path}: {error}") from error
    if not isinstance(data, dict):
        raise HoursModelError(f"{path}: 設定はマッピングで書いてください / the hours model must be a mapping")
    return data


def load_hours_model(path: str | Path | None = None) -> HoursModelConfig:
    """The defaults, overridden key by key by `path` (or the file named in TAXINTAKE_HOURS_MODEL) if given."""
    data = _read_yaml(DEFAULT_HOURS_MODEL)
    override_path = path or os.environ.get(HOURS_MODEL_ENV) or None
    sources = ["既定値 defaults (reporting/hours_model.yaml)"]
    if override_path:
        data = _merge(data, _read_yaml(Path(override_path)))
        sources.append(str(override_path))
    try:
        return HoursModelConfig.model_validate({**data, "source": " + ".join(sources)})
    except ValidationError as error:
        raise HoursModelError(f"削減時間モデルの設定が不正です / invalid hours model ({' + '.join(sources)}):\n{error}"
                              ) from error
