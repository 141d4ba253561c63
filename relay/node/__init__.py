"""The node core: one node's protocol state, sans radio, sans loop (relay.node.core)."""
