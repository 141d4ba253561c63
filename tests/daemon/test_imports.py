"""The daemon shell and its API import one way: no circle between relay.daemon* and relay.api*,
and none hidden behind an import inside a function (grimp sees those too)."""

from __future__ import annotations

import grimp


def test_no_import_circle_in_the_daemon_shell() -> None:
    graph = grimp.build_graph("relay", "tui")
    shell = sorted(m for m in graph.modules if m.startswith(("relay.daemon", "relay.api")))
    assert {"relay.daemon", "relay.daemon_api", "relay.daemon_port", "relay.api"} <= set(shell)
    circles = [
        (a, b)
        for i, a in enumerate(shell)
        for b in shell[i + 1 :]
        if graph.chain_exists(a, b) and graph.chain_exists(b, a)
    ]
    assert circles == []
    # the methods see the daemon through its port only
    assert not graph.chain_exists("relay.daemon_api", "relay.daemon")
    assert graph.direct_import_exists(importer="relay.daemon", imported="relay.daemon_api")
