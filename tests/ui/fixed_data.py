"""Fixed data for pictures and benchmarks: a small feed, a mesh status, and canned API answers."""

from __future__ import annotations

from typing import Any

from tui.app import JarshyApp
from tui.state import FeedModel

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC
NEWSROOM = "Almaty Newsroom"
STATUS: dict[str, Any] = {
    "simulated": True,
    "link": {"state": "up", "address": "tcp:127.0.0.1:4403", "simulated": True},
    "radio": {"model": "PORTDUINO", "firmware": "2.7.15", "region": "KZ_863",
              "preset": "LONG_FAST", "role": "CLIENT", "node_num": 1, "name": "Rooftop"},
    "nodes": [{"num": 2, "name": "Market", "snr": 6.5, "hops": 0, "last_heard": T0 + 300},
              {"num": 3, "name": None, "snr": -11.25, "hops": 2, "last_heard": T0 - 7200}],
    "channel_utilization": 4.2, "air_util_tx": 0.8,
    "airtime": {"budget_s": 360.0, "used_s": 12.5, "window_s": 3600, "busy": False},
    "queue": {"depth": 2, "by_priority": {"safety": 1, "news": 1}, "dropped": {"expired": 1}},
    "counts": {"trusted": 3},
}  # fmt: skip
ROWS = [  # id, kind, status, severity, text, lang, signer, claimed
    (
        "a1",
        "news",
        "trusted",
        None,
        "Вода будет завтра с 10:00 до 14:00 во всём Медеуском районе.",
        "ru",
        NEWSROOM,
        None,
    ),
    (
        "a2",
        "safety",
        "trusted",
        "extreme",
        "Комендантский час с 23:00 до 07:00. Не выходите из дома.",
        "ru",
        NEWSROOM,
        None,
    ),
    (
        "a3",
        "news",
        "unknown_key",
        None,
        "Ертең барлық дүкендер жабылады дейді.",
        "kk",
        None,
        NEWSROOM,
    ),
    (
        "a4",
        "safety",
        "invalid",
        "extreme",
        "OFFICIAL: evacuate the whole city now.",
        "en",
        None,
        None,
    ),
    ("a5", "news", "revoked", None, "Bank branches open at 9.", "en", "Old key", None),
    ("a6", "news", "pending_key", None, "Дәріханалар 09:00-ден ашық.", "kk", None, None),
    (
        "a7",
        "correction",
        "trusted",
        None,
        "Поправка: вода будет с 11:00, не с 10:00.",
        "ru",
        NEWSROOM,
        None,
    ),
]
REASONS = {
    "trusted": "signed by Almaty Newsroom, certified by a root you trust",
    "unknown_key": "key is not certified by anyone you trust",
    "pending_key": "the author's certificate has not arrived yet",
    "revoked": "the key was revoked by its issuer on 2025-12-30",
    "invalid": "signature does not match the author's key: the bytes were altered",
}


def bulletins() -> list[dict[str, Any]]:
    out = []
    for i, (ident, kind, status, severity, text, lang, signer, claimed) in enumerate(ROWS):
        out.append({
            "id": ident * 8, "kind": kind, "status": status, "severity": severity, "text": text,
            "lang": lang, "signer_name": signer, "claimed_name": claimed, "author": "cd" * 8,
            "created": T0 + 60 * i, "received_at": T0 + 60 * i + 5, "expired": False,
            "reason": REASONS[status], "area": "Алматы" if kind == "safety" else None,
            "event": "curfew" if kind == "safety" else None, "source": "radio", "hops": 2,
            "snr": -7.5, "ref": "a1" * 8 if kind == "correction" else None,
            "chain": f"{signer} <- Root" if signer else None,
            "expires_at": T0 + 86_400 if kind == "safety" else None,
            "delivery": None, "held_by": None,
        })  # fmt: skip
    return out


def feed() -> FeedModel:
    model = FeedModel()
    for b in bulletins():
        model.upsert(b)
    return model


class CannedApp(JarshyApp):
    """The app with canned API answers instead of a daemon: for pictures and benchmarks."""

    async def call(self, method: str, **params: Any) -> Any:
        by_id = {b["id"]: b for b in bulletins()}
        if method == "identities":
            return [{"name": "Aigerim", "key_id": "ef" * 8, "fingerprint": "K7QM-2XPA-9R4D-WT3E",
                     "unlocked": False}]  # fmt: skip
        if method == "trust.list":
            return [{"name": NEWSROOM, "key_id": "12" * 8, "fingerprint": "S885-SAWC-6GAT-DP18"}]
        if method == "size":
            n = len(params.get("text", "").encode())
            return {"bytes": 70 + n // 2, "packets": 1 + (70 + n // 2) // 233,
                    "fits": 70 + n // 2 <= 233, "preset": "LONG_FAST",
                    "airtime_ms": {"LONG_FAST": 1150}}  # fmt: skip
        if method == "get":
            b = by_id[params["id"]]
            corrections = [by_id["a7" * 8]] if b["id"] == "a1" * 8 else []
            refers = by_id["a1" * 8] if b.get("ref") else None
            return {"bulletin": b, "raw": "", "corrections": corrections, "refers_to": refers}
        raise AssertionError(method)


def canned_app(lang: str = "en") -> CannedApp:
    return CannedApp(None, model=feed(), lang=lang, status=dict(STATUS), clock=lambda: T0 + 600)
