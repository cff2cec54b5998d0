"""Keep 個人番号 out of free text the ledger stores (reasons shown in reports and audit logs)."""
from __future__ import annotations

from ocr.masking import mask_personal_numbers

__all__ = ["mask_personal_numbers"]
