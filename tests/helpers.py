"""Builders for bulletins used across tests, and a wait for a condition."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from relay.crypto.keys import Identity
from relay.wire import bulletin as wire
from relay.wire.fields import CERTIFY_BIT, Content, Kind, SafetyInfo

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def news(
    author: Identity, text: str = "Су жоқ. Вода будет завтра.", created: int = T0, **kw: object
) -> wire.Bulletin:
    return wire.sign(Content(Kind.NEWS, author.key_id, created, text, "ru", **kw), author)  # type: ignore[arg-type]


def safety(
    author: Identity, severity: str = "severe", created: int = T0, lifetime: int = 3600
) -> wire.Bulletin:
    info = SafetyInfo(
        event="fire",
        category="fire",
        severity=severity,
        urgency="immediate",
        certainty="observed",
        area="Алматы, Абай даңғылы",
        point=(4323800, 7694500, 500),
    )
    content = Content(
        Kind.SAFETY,
        author.key_id,
        created,
        "Пожар! Уходите от здания.",
        "ru",
        lifetime=lifetime,
        safety=info,
    )
    return wire.sign(content, author)


def certificate(
    issuer: Identity,
    subject: Identity,
    kinds: int = 0b1111,
    created: int = T0,
    lifetime: int = 90 * 86400,
    name: str | None = None,
    may_certify: bool = False,
) -> wire.Bulletin:
    content = Content(
        Kind.CERTIFICATE,
        issuer.key_id,
        created,
        subject_key=subject.public_key,
        name=name or subject.name,
        kinds=kinds | (CERTIFY_BIT if may_certify else 0),
        lifetime=lifetime,
    )
    return wire.sign(content, issuer)


def revocation(author: Identity, revoked: Identity, created: int = T0) -> wire.Bulletin:
    content = Content(
        Kind.REVOCATION, author.key_id, created, revoked=revoked.key_id, reason="compromised"
    )
    return wire.sign(content, author)


def announcement(author: Identity, name: str | None = None, created: int = T0) -> wire.Bulletin:
    content = Content(
        Kind.ANNOUNCEMENT,
        author.key_id,
        created,
        subject_key=author.public_key,
        name=name or author.name,
    )
    return wire.sign(content, author)


async def until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait until ``predicate()`` holds (TimeoutError after ``timeout`` seconds)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)
