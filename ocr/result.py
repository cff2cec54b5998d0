"""The read-result contract (DESIGN.md): one JSON object per form read."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

FieldStatus = Literal["accepted", "review", "empty"]


class FieldReading(BaseModel):
    value: str | bool | None
    confidence: float = Field(ge=0.0, le=1.0)
    status: FieldStatus
    reasons: list[str] = Field(default_factory=list)
    raw_text: str | None = Field(default=None, exclude=True, description="the engine's text before normalisation")
    # `confidence` is the calibrated probability that the value is right (ocr/calibration.py); the engine's own
    # score (the mark confidence for marks) stays here for calibration, outside the JSON contract.
    engine_score: float | None = Field(default=None, exclude=True, description="the engine's score, uncalibrated")
    min_char_score: float | None = Field(default=None, exclude=True,
                                         description="the engine's least sure character, where it gives one")


class ReadResult(BaseModel):
    source: str
    page: int
    form_id: str | None
    template_version: str | None = None
    skew_degrees: float | None = None
    rotation_degrees: int | None = None
    registration_residual_px: float | None = None
    seconds: float
    fields: dict[str, FieldReading] = Field(default_factory=dict)
    error: str | None = None

    def output_name(self, content_sha256: str | None = None) -> str:
        """JSON file name for this page: the source's stem and the page number (never a field value), cleaned and
        cut short with the scan's content hash added where the clerk's name cannot be written as it is
        (`ocr.file_names`); `source` inside the JSON keeps the name."""
        from ocr.file_names import result_file_name

        return result_file_name(self.source, self.page, content_sha256)
