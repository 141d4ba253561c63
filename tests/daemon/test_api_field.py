"""Field-ready API items (issue 14): own identities trusted, `daemon stop`, `status` in words,
`text_error` in the Bulletin object, and `cap.export`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from relay.api_client import ApiError, daemon_answers
from relay.cli.daemon import duration, status_lines
from tests.daemon.conftest import PASSPHRASE, Node, running


async def error_code(node: Node, method: str, **params: Any) -> str:
    try:
        await node.call(method, **params)
    except ApiError as exc:
        return exc.code
    raise AssertionError(f"{method} {params} succeeded")


@pytest.mark.asyncio
async def test_own_identity_is_trusted_by_its_name(node: Node) -> None:
    node.new_identity("Editor")  # straight into the keystore, as on a node upgraded from before
    await node.call("unlock", identity="Editor", passphrase=PASSPHRASE)
    sent = await node.call("publish", kind="news", text="Мост закрыт до утра.", lang="ru")
    got = (await node.call("get", id=sent["id"]))["bulletin"]
    assert got["status"] == "trusted" and got["signer_name"] == "Editor"
    assert got["text_error"] is None and got["text"] == "Мост закрыт до утра."
    assert "Editor" in {r["name"] for r in await node.call("trust.list")}


@pytest.mark.asyncio
async def test_keys_new_trusts_itself_and_says_the_next_step(node: Node, tmp_path: Path) -> None:
    made = await node.cli("keys", "new", "Almaty Desk")
    assert made.returncode == 0, made.stderr
    assert "next:" in made.stdout and "fingerprint" in made.stdout and "trust add" in made.stdout
    out = tmp_path / "mine.bin"
    composed = await node.cli("compose", "--text", "Свет дали.", "--as", "Almaty Desk",
                              "--out", str(out))  # fmt: skip
    assert composed.returncode == 0, composed.stderr
    inspected = await node.cli("inspect", str(out))
    assert inspected.returncode == 0, inspected.stderr
    assert "UNKNOWN" not in inspected.stdout and "TRUSTED" in inspected.stdout
    assert "Almaty Desk" in inspected.stdout
    # and the running daemon was told too (it is the one writer of trust while it runs)
    assert "Almaty Desk" in {r["name"] for r in await node.call("trust.list")}


@pytest.mark.asyncio
async def test_status_in_words_and_the_warning_of_a_relay_that_trusts_nobody(node: Node) -> None:
    status = await node.call("status")
    status["channel_utilization"] = None  # as before the radio reports it
    status["link"]["ignored_radios"] = [{"node": "!4a530005", "until": 1_000 + 3 * 3600}]
    lonely = "\n".join(status_lines(status, 0, 1_000.0))
    assert "WARNING" in lonely and "trusts no key" in lonely and "trust add" in lonely
    assert "None" not in lonely and "{" not in lonely and "not reported" in lonely
    assert "for 3 h more" in lonely
    trusting = "\n".join(status_lines(status, 2, 1_000.0))
    assert "WARNING" not in trusting and "trusted roots: 2" in trusting
    assert [duration(s) for s in (5, 720, 3 * 3600 + 300, 3 * 86400)] == [
        "5 s", "12 min", "3 h 5 min", "3 d",
    ]  # fmt: skip


@pytest.mark.asyncio
async def test_daemon_stop_through_the_api(tmp_path: Path) -> None:
    async with running(tmp_path / "home") as node:
        stopped = await node.cli("daemon", "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert "daemon stopped" in stopped.stdout
        assert node.daemon.stop.is_set() and not daemon_answers(node.socket)
    gone = await node.cli("daemon", "stop")
    assert gone.returncode != 0 and "no daemon" in gone.stderr


@pytest.mark.asyncio
async def test_cap_export(node: Node) -> None:
    node.new_identity("Civil Defence")
    await node.call("unlock", identity="Civil Defence", passphrase=PASSPHRASE)
    alert = await node.call(
        "publish", kind="safety", text="Паводок: уходите на возвышенность.", expires=7200,
        identity="Civil Defence", safety={"severity": "extreme", "event": "flood", "area": "Есик"},
    )  # fmt: skip
    got = await node.call("cap.export", id=alert["id"][:8])
    assert (got["id"], got["kind"], got["msg_type"]) == (alert["id"], "safety", "Alert")
    assert got["xml"].startswith("<?xml") and "Паводок" in got["xml"]
    fix = await node.call("publish", kind="correction", text="Вода спадает.", ref=alert["id"],
                          identity="Civil Defence")  # fmt: skip
    update = await node.call("cap.export", id=fix["id"])
    assert update["msg_type"] == "Update" and alert["id"] in update["xml"]
    news = await node.call("publish", kind="news", text="Рынок открыт.", identity="Civil Defence")
    assert await error_code(node, "cap.export", id=news["id"]) == "bad-params"
    orphan = await node.call("publish", kind="retraction", text="Отмена.", ref=os.urandom(8).hex(),
                             identity="Civil Defence")  # fmt: skip
    assert await error_code(node, "cap.export", id=orphan["id"]) == "not-found"
    assert await error_code(node, "cap.export", id="xyz") == "bad-params"
    assert await error_code(node, "cap.export", id="0123456789abcdef") == "not-found"


@pytest.mark.asyncio
async def test_cap_export_refuses_a_strangers_alert(node: Node) -> None:
    async def strangers() -> Any:
        found = await node.call("query", statuses=["unknown_key"])
        return found["bulletins"]

    stranger = (await node.wait_for(strangers))[0]
    assert await error_code(node, "cap.export", id=stranger["id"]) == "bad-params"
