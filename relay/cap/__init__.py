"""OASIS CAP 1.2 in and out (pure: bytes and typed values, no files).

- :mod:`relay.cap.parse` — a CAP file's bytes as a typed alert, hostile XML refused (defusedxml);
- :mod:`relay.cap.mapping` — that alert as a compose Draft, with what was changed or dropped;
- :mod:`relay.cap.fit` — the draft cut to fit one radio packet, saying what was cut;
- :mod:`relay.cap.export` — a signed safety bulletin (or its correction or retraction) as CAP;
- :mod:`relay.cap.words`, :mod:`relay.cap.geo` — the vocabularies, times, texts and shapes.

``CAP-v1.2.xsd`` beside this file is the OASIS schema the tests validate every export against.
docs/cap.md has the mapping both ways.
"""
