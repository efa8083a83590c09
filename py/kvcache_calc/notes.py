"""A note for the user in English and Chinese, as warnings, deployment notes and diagnoses carry them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    """Something a number or a command line cannot say, said to the user: a code and its two texts."""

    code: str
    message_en: str
    message_zh: str

    def as_json(self) -> dict:
        return {"code": self.code, "message_en": self.message_en, "message_zh": self.message_zh}
