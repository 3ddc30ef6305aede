"""Password rules beyond Django's own validators (ASVS: 12 minimum, 64+ allowed, no composition,
breached passwords refused).

The breached-password check works offline: ``data/breached-sha1.txt.gz`` holds the first
``DIGEST_HEX_CHARS`` hex digits of the SHA-1 of ~100k lower-cased passwords known from breaches:
Django's list of 20,000 common passwords and the patterns people build on them (suffixes and
years, doubled or repeated words, common substitutions, keyboard and digit runs, repeated
characters), kept to 12-128 characters because shorter ones never pass the length rule anyway.
The file holds no plaintext; ``manage.py build_breached_passwords`` regenerates it from the
same rules. With ``HIBP_ONLINE`` the full Have I Been Pwned corpus is also asked, by
k-anonymity range (only five hex digits of the hash leave the server); if that service cannot
be reached the offline answer stands, so an outage never blocks a sign-up.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import string
import urllib.request
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

if TYPE_CHECKING:  # the validators are loaded from settings, before the apps
    from apps.accounts.models import User

logger = logging.getLogger("apps.accounts.passwords")

BREACHED_LIST_PATH = Path(__file__).resolve().parent / "data" / "breached-sha1.txt.gz"
DIGEST_HEX_CHARS = 12
MIN_LENGTH, MAX_LENGTH = 12, 128


class MaximumLengthValidator:
    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password: str, user: User | None = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long: at most {self.max_length} characters.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Your password can be up to {self.max_length} characters long."


# --- Context-specific words (ASVS 6.2.11) ------------------------------------------------------

# Undo the usual substitutions before looking for a word ("0penMRC$" is still "openmrcs").
_UNLEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"})
_UNLEET.update(str.maketrans({"$": "s", "!": "i", "|": "i"}))
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# Parts of an email local part shorter than this are too common to refuse ("jo", "dr", "uk").
MIN_CONTEXT_WORD_LENGTH = 4


def _normalise(text: str) -> str:
    """Lower case, substitutions undone, everything but letters and digits removed."""
    return _NOT_ALNUM.sub("", text.lower().translate(_UNLEET))


def context_words(user: User | None = None) -> list[str]:
    """The words a password must not contain: the product's (``PASSWORD_CONTEXT_WORDS``) and the
    local part of the user's email address, whole and split at ``. _ - +``."""
    words = [str(word) for word in getattr(settings, "PASSWORD_CONTEXT_WORDS", [])]
    email = str(getattr(user, "email", "") or "")
    if "@" in email:
        local = email.rsplit("@", 1)[0].split("+", 1)[0]
        words.append(local)
        words.extend(re.split(r"[._\-]+", local))
    normalised = {_normalise(word) for word in words}
    return sorted(w for w in normalised if len(w) >= MIN_CONTEXT_WORD_LENGTH)


class ContextWordsValidator:
    """Refuses passwords containing the product's name or the user's email local part, also when
    written with capitals, separators or digit-for-letter substitutions."""

    def validate(self, password: str, user: User | None = None) -> None:
        text = _normalise(password)
        if any(word in text for word in context_words(user)):
            raise ValidationError(
                "This password contains the name of this site or part of your email address.",
                code="password_context_word",
            )

    def get_help_text(self) -> str:
        return "Your password can't contain the name of this site or your email address."


# --- The offline list ----------------------------------------------------------------------------

_YEARS = [str(year) for year in range(1970, 2031)]
_SUFFIXES = ["1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "@123", "#1", "01"]
_SUFFIXES += ["007", "69", "99"]
_LEET = str.maketrans({"a": "@", "o": "0", "e": "3", "i": "1", "s": "$"})
# How far down the frequency-ordered common list each pattern is applied.
_SUFFIX_WORDS, _YEAR_WORDS, _LEET_WORDS = 8000, 400, 1500


def breached_candidates(common: Iterable[str]) -> Iterator[str]:
    """Lower-cased breached-style passwords built from ``common`` (most frequent first)."""
    for rank, word in enumerate(common):
        yield word
        variants = [word, word.translate(_LEET)] if rank < _LEET_WORDS else [word]
        for variant in variants:
            if rank < _SUFFIX_WORDS:
                yield from (variant + suffix for suffix in _SUFFIXES)
            if rank < _YEAR_WORDS:
                for year in _YEARS:
                    yield variant + year
                    yield variant + year + "!"
            yield variant + variant
            if len(variant) <= 6:
                yield variant * 3
    for char in string.printable[:94]:
        yield from (char * n for n in range(12, 33))
    for run in ("1234567890", "0123456789", "9876543210"):
        yield from ((run * 5)[:n] for n in range(12, 41))


def password_digest(password: str) -> str:
    """The list's key for a password: SHA-1 (as HIBP uses it) of the lower-cased text, truncated.

    Not a password hash for storage; it only looks the password up in a public corpus.
    """
    full = hashlib.sha1(password.lower().encode(), usedforsecurity=False).hexdigest()
    return full[:DIGEST_HEX_CHARS].upper()


def build_breached_list(common_list: Path | None = None) -> bytes:
    """The gzip'd, sorted digest file, byte for byte reproducible."""
    common_list = common_list or Path(CommonPasswordValidator().DEFAULT_PASSWORD_LIST_PATH)
    with gzip.open(common_list, "rt", encoding="utf-8") as handle:
        common = [line.strip() for line in handle if line.strip()]
    digests = sorted(
        {
            password_digest(candidate)
            for candidate in breached_candidates(common)
            if MIN_LENGTH <= len(candidate) <= MAX_LENGTH
        }
    )
    return gzip.compress(("\n".join(digests) + "\n").encode(), mtime=0)


@lru_cache(maxsize=4)
def load_breached_digests(path: Path = BREACHED_LIST_PATH) -> frozenset[str]:
    with gzip.open(path, "rt", encoding="ascii") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


# --- The online check (opt-in) -------------------------------------------------------------------


def hibp_breach_count(password: str) -> int | None:
    """How often HIBP has seen ``password``; None when the service could not be asked.

    Only the first five hex digits of the SHA-1 are sent; the response is padded so its size
    tells an observer nothing either.
    """
    digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:5], digest[5:]
    url = f"{settings.HIBP_API_URL.rstrip('/')}/range/{prefix}"
    if not url.startswith(("https://", "http://")):
        raise ValueError("HIBP_API_URL must be an http(s) URL.")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, headers={"Add-Padding": "true", "User-Agent": "openmrcs-password-check"}
    )
    try:
        with urllib.request.urlopen(  # noqa: S310  # nosec B310 # scheme checked above
            request, timeout=settings.HIBP_TIMEOUT_SECONDS
        ) as response:
            body = response.read().decode("ascii", errors="replace")
    except (OSError, ValueError) as exc:
        logger.warning("breached-password service unavailable", extra={"error": type(exc).__name__})
        return None
    for line in body.splitlines():
        candidate, _, count = line.strip().partition(":")
        if candidate.upper() == suffix:
            try:
                return int(count)
            except ValueError:
                return None
    return 0


class BreachedPasswordValidator:
    """Refuses passwords known from breaches: the bundled list always, HIBP when enabled."""

    def __init__(self, list_path: str | None = None):
        self.list_path = Path(list_path) if list_path else BREACHED_LIST_PATH

    def is_breached(self, password: str) -> bool:
        if password_digest(password) in load_breached_digests(self.list_path):
            return True
        if getattr(settings, "HIBP_ONLINE", False):
            return bool(hibp_breach_count(password))
        return False

    def validate(self, password: str, user: User | None = None) -> None:
        if self.is_breached(password):
            raise ValidationError(
                "This password has appeared in a data breach. Choose a different one.",
                code="password_breached",
            )

    def get_help_text(self) -> str:
        return "Your password can't be one that has appeared in a data breach."
