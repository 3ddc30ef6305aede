"""Duplicate detection: two stems that differ only in case, spacing or punctuation are the same
question."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)
_WHITESPACE = re.compile(r"\s+")
_TAGS = re.compile(r"<[^>]*>")


def normalise_stem_text(stem: str) -> str:
    """Lower case, markup and punctuation removed, entities decoded, whitespace collapsed."""
    text = _TAGS.sub(" ", stem or "")
    text = unicodedata.normalize("NFKC", html.unescape(text))
    text = _PUNCTUATION.sub(" ", text.lower()).replace("_", " ")
    return _WHITESPACE.sub(" ", text).strip()


def stem_fingerprint(stem: str) -> str:
    """sha256 (hex) of the normalised stem: the value stored in ``Question.stem_normalised``."""
    return hashlib.sha256(normalise_stem_text(stem).encode("utf-8")).hexdigest()
