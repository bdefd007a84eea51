"""The exception hierarchy. Every error the library raises derives from :class:`DntError`."""

from __future__ import annotations

__all__ = [
    "DntError",
    "ConfigError",
    "DataError",
    "CodecError",
    "DecodeError",
    "EncodeError",
    "AggregationError",
    "ModelIntegrityError",
    "PolicyError",
    "TransportError",
    "AuthError",
]


class DntError(Exception):
    """Root of all DNT-RIC errors."""


class ConfigError(DntError, ValueError):
    """A configuration value is invalid; the message names the field and the accepted range."""


class DataError(DntError, ValueError):
    """Input data is malformed or inconsistent; the message names the file and line where known."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class CodecError(DntError):
    """Encoding or decoding of a wire message failed."""


class DecodeError(CodecError, ValueError):
    """Bytes could not be decoded into a valid message."""


class EncodeError(CodecError, ValueError):
    """A message could not be encoded."""


class AggregationError(DntError, ValueError):
    """An aggregation rule cannot run with the given updates or settings."""


class ModelIntegrityError(DntError):
    """A model file is corrupt or its content hash does not match."""


class PolicyError(DntError, ValueError):
    """An A1 policy is invalid for its policy type."""


class TransportError(DntError, OSError):
    """A transport (socket, RMR, HTTP) failed."""


class AuthError(DntError):
    """A twin update failed authentication or replay protection (:mod:`dnt.fl.auth`).

    ``reason`` is one of ``"unknown client"`` (no key for the client id), ``"unsigned"`` (no nonce or tag
    where one is required), ``"bad tag"`` (the HMAC does not match: wrong key or modified message),
    ``"replayed nonce"`` (this client's nonce was seen before) or ``"stale nonce"`` (the nonce's timestamp
    is outside the replay window, so it can no longer be checked against the nonces remembered).
    """

    REASONS = ("unknown client", "unsigned", "bad tag", "replayed nonce", "stale nonce")

    def __init__(self, reason: str, client_id: str = "", detail: str = "") -> None:
        super().__init__(f"update from {client_id!r} rejected: {reason}" + (f" ({detail})" if detail else ""))
        self.reason = reason
        self.client_id = client_id
        self.detail = detail
