"""The shared vocabulary agrees with what it names: the firmware's roles, the wire's priorities."""

from __future__ import annotations

from meshtastic.protobuf import config_pb2

from relay import vocabulary
from relay.sync.judge import priority_of
from relay.wire.fields import Kind
from tests.conftest import make_identity
from tests.helpers import news, safety

ROOT = make_identity("root")


def test_role_names_are_the_firmware_protobuf_roles_in_order() -> None:
    roles = config_pb2.Config.DeviceConfig.Role
    assert tuple(roles.Name(i) for i in range(len(roles.keys()))) == vocabulary.ROLE_NAMES
    assert set(vocabulary.ROLE_NAMES) >= vocabulary.RELAYLESS_ROLES


def test_priorities_are_named_once_and_ordered_as_the_protocol_says() -> None:
    extreme = priority_of(safety(ROOT, severity="extreme").content)
    minor = priority_of(safety(ROOT, severity="minor").content)
    plain = priority_of(news(ROOT).content)
    assert vocabulary.priority_name(extreme) == "safety extreme"
    assert vocabulary.priority_name(minor) == "safety minor"
    assert vocabulary.priority_name(plain) == "news"
    assert vocabulary.PRIORITY_REVOCATION > extreme > minor > vocabulary.PRIORITY_CORRECTION
    assert vocabulary.PRIORITY_CORRECTION > vocabulary.PRIORITY_KEYS > plain
    assert plain > vocabulary.PRIORITY_SYNC > vocabulary.PRIORITY_BEACON
    assert Kind.REVOCATION.name.lower() == vocabulary.priority_name(vocabulary.PRIORITY_REVOCATION)
