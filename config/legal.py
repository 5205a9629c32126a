"""`[legal]`: the privacy notice and terms of use served at GET /privacy and GET /terms,
the pages the Teams app package links to. Each is given as text in the config, or as the
path of a UTF-8 text file (relative to the directory the server runs in); without either,
Crosstalk serves a default that says what it stores (bot/legal.py)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class LegalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    contact: str | None = Field(default=None, min_length=1)  # e-mail or address to ask
    privacy: str | None = Field(default=None, min_length=1)
    privacy_file: str | None = None
    terms: str | None = Field(default=None, min_length=1)
    terms_file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> LegalConfig:
        for page in ("privacy", "terms"):
            text, path = getattr(self, page), getattr(self, f"{page}_file")
            if text is not None and path is not None:
                raise ValueError(f"give {page} or {page}_file, not both")
            if path is not None:
                _read(path, f"{page}_file")
        return self

    def page_text(self, page: str) -> str | None:
        """The configured text of "privacy" or "terms"; None for the default."""
        path = getattr(self, f"{page}_file")
        text: str | None = _read(path, f"{page}_file") if path else getattr(self, page)
        return text


def _read(path: str, key: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{key}: cannot read {path!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{key}: {path!r} is not UTF-8 text") from None
