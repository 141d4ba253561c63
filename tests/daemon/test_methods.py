"""Every API method against one real simulated daemon (in process, on its real socket), and the
CLI commands that talk to it (subprocesses)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from relay.api_client import ApiError
from relay.bundle import write_bundle
from relay.crypto.keys import encode_share, generate_identity
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from tests.daemon.conftest import PASSPHRASE as PASS
from tests.daemon.conftest import Node, running

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Node]:
    async with running(tmp_path_factory.mktemp("node") / "home") as daemon:
        yield daemon


async def error_code(daemon: Node, method: str, **params: Any) -> str:
    try:
        await daemon.call(method, **params)
    except ApiError as exc:
        return exc.code
    raise AssertionError(f"{method} {params} succeeded")


async def test_hello_status_size(node: Node) -> None:
    hello: Any = await node.call("hello")
    assert hello["api"] == 1 and hello["simulated"] is True
    status: Any = await node.call("status")
    assert status["simulated"] is True and status["link"]["simulated"] is True
    assert set(status["airtime"]) == {"budget_s", "used_s", "window_s", "busy"}
    assert set(status["queue"]) == {"depth", "by_priority", "dropped"}
    held = status["untrusted"]
    assert held["rows_limit"] == 2000 and 0 <= held["rows"] <= held["rows_limit"]
    assert held["refused"] == 0 and held["rejudging"] in (True, False)
    size: Any = await node.call("size", text="Свет дали.", kind="news")
    assert size["fits"] and size["packets"] == 1 and size["bytes"] > 64
    assert (await node.call("size", text="  "))["packets"] == 0


async def test_identities_unlock_publish_get_query(node: Node) -> None:
    node.new_identity("Editor")
    ids: Any = await node.call("identities")
    editor = next(i for i in ids if i["name"] == "Editor")
    assert editor["unlocked"] is False
    assert await error_code(node, "publish", kind="news", text="x", identity="Editor") == "locked"
    assert await error_code(node, "unlock", identity="Nobody", passphrase=PASS) == "not-found"
    unlocked: Any = await node.call("unlock", identity="Editor", passphrase=PASS)
    assert unlocked["key_id"] == editor["key_id"]
    ids = await node.call("identities")
    assert next(i for i in ids if i["name"] == "Editor")["unlocked"]

    alert: Any = await node.call(
        "publish", kind="safety", text="Пожар на рынке, обходите с севера.", expires=7200,
        identity="Editor", safety={"severity": "severe", "event": "fire", "area": "Рынок",
                                   "point": [43.238, 76.945, 500]},
    )  # fmt: skip
    assert alert["delivery"] == "queued" and alert["packets"] >= 1
    fix: Any = await node.call(
        "publish", kind="correction", text="Пожар потушен.", ref=alert["id"], identity="Editor"
    )
    got: Any = await node.call("get", id=alert["id"][:8])
    b = got["bulletin"]
    assert (b["kind"], b["severity"], b["event"], b["area"]) == (
        "safety",
        "severe",
        "fire",
        "Рынок",
    )
    assert b["author"] == editor["key_id"] and b["source"] == "local" and b["expires_at"]
    assert [c["id"] for c in got["corrections"]] == [fix["id"]]
    assert (await node.call("get", id=fix["id"]))["refers_to"]["id"] == alert["id"]
    assert bytes.fromhex(got["raw"]) and got["refers_to"] is None

    mine: Any = await node.call("query", author=editor["key_id"])
    assert {x["id"] for x in mine["bulletins"]} == {alert["id"], fix["id"]}
    only: Any = await node.call("query", author=editor["key_id"], kinds=["safety"], text="рынке")
    assert [x["id"] for x in only["bulletins"]] == [alert["id"]] and only["total"] == 1
    assert (await node.call("query", author=editor["key_id"], min_severity="extreme"))["total"] == 0

    assert (
        await error_code(node, "publish", kind="poem", text="x", identity="Editor") == "bad-params"
    )
    assert await error_code(node, "publish", kind="correction", text="x", identity="Editor") == (
        "bad-params"
    )
    assert await error_code(node, "get", id="zz") == "bad-params"
    assert await error_code(node, "get", id="0123456789abcdef") == "not-found"
    assert await error_code(node, "query", limit="many") == "bad-params"
    assert await error_code(node, "query", since=[1]) == "bad-params"


async def test_trust_share_and_import(node: Node, tmp_path: Path) -> None:
    outsider = generate_identity("Outsider")
    share = encode_share(outsider.public_key, "Outsider")
    decoded: Any = await node.call("share.decode", share=share)
    assert decoded["name"] == "Outsider" and decoded["key_id"] == outsider.key_id.hex()
    assert await error_code(node, "share.decode", share="jarshy:garbage") == "bad-params"
    assert await error_code(node, "trust.add", share="garbage") == "bad-params"
    assert await error_code(node, "trust.remove", key_id="xyz") == "bad-params"

    added: Any = await node.call("trust.add", share=share)
    assert added["key_id"] == outsider.key_id.hex()
    roots: Any = await node.call("trust.list")
    assert {"Outsider", "Simulated newsroom"} <= {r["name"] for r in roots}

    news = wire.sign(Content(Kind.NEWS, outsider.key_id, 1_800_000_000, "Из флешки.", "ru"),
                     outsider)  # fmt: skip
    bundle = tmp_path / "stick.jarshy"
    bundle.write_bytes(write_bundle([news.raw], [outsider.public_key]))
    assert await node.call("import", path=str(bundle)) == {
        "accepted": 1,
        "duplicate": 0,
        "rejected": 0,
    }
    assert await node.call("import", path=str(bundle)) == {
        "accepted": 0,
        "duplicate": 1,
        "rejected": 0,
    }
    got: Any = await node.call("get", id=news.id.hex())
    assert got["bulletin"]["status"] == "trusted" and got["bulletin"]["source"] == "bundle"
    (tmp_path / "junk").write_bytes(b"not a bundle")
    assert await error_code(node, "import", path=str(tmp_path / "junk")) == "bad-params"
    assert await error_code(node, "import", path=str(tmp_path / "absent")) == "bad-params"

    removed: Any = await node.call("trust.remove", key_id=outsider.key_id.hex())
    assert removed["changed"] >= 1
    roots = await node.call("trust.list")
    assert "Outsider" not in {r["name"] for r in roots}
    assert (await node.call("get", id=news.id.hex()))["bulletin"]["status"] != "trusted"


async def test_cli_send_read_status(node: Node) -> None:
    node.new_identity("Desk")
    bad = await node.cli("send", "--kind", "correction", "--text", "x", "--as", "Desk")
    assert bad.returncode == 2 and "--ref" in bad.stderr and "Traceback" not in bad.stderr
    sent = await node.cli("send", "--text", "Автобусы ходят по расписанию.", "--as", "Desk")
    assert sent.returncode == 0, sent.stderr
    ident = sent.stdout.split()[1].rstrip(":")
    alert = await node.cli("send", "--kind", "safety", "--severity", "extreme", "--event", "flood",
                     "--point", "43.2,76.9,1000", "--expires", "2h", "--text", "Вода идёт.",
                     "--as", "Desk")  # fmt: skip
    assert alert.returncode == 0, alert.stderr
    read = await node.cli("read", "--json", "--text", "Автобусы")
    assert read.returncode == 0 and ident in read.stdout and '"source": "local"' in read.stdout
    plain = await node.cli("read", "--plain", "--min-severity", "extreme", "--kind", "safety")
    assert "Вода идёт." in plain.stdout and "✔" not in plain.stdout
    status = await node.cli("status")
    assert status.returncode == 0 and "(simulated mesh)" in status.stdout
    assert "None" not in status.stdout and "{" not in status.stdout


async def test_socket_of_a_live_daemon_is_not_taken(node: Node, tmp_path: Path) -> None:
    """The real process: a daemon on another home exits 2, leaving the live socket alone."""
    argv = ("daemon", "--simulate", "--socket", str(node.socket))
    result = await node.cli(*argv, JARSHY_HOME=str(tmp_path / "other"))
    assert result.returncode == 2 and "already serving" in result.stderr
    assert await node.call("hello")  # and the first one still answers


async def test_query_params_of_the_wrong_type_are_bad_params(node: Node) -> None:
    """Checked by the handler itself (a handler's own TypeError would be 'internal')."""
    for params in (
        {"limit": "ten"}, {"kinds": "news"}, {"statuses": [1]}, {"author": "xyz"},
        {"since": [1]}, {"lang": ["ru"]}, {"limit": 1e400},
    ):  # fmt: skip
        assert await error_code(node, "query", **params) == "bad-params", params
    assert (await node.call("query", limit=1))["total"] >= 0
