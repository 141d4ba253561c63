"""Sans-IO store-and-forward sync: what a node transmits and when (driven by events and a clock)."""
