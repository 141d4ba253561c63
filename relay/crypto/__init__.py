"""Identities, signatures, share strings and the encrypted keystore.

``relay.crypto.keys`` is pure (no I/O, no clock); ``relay.crypto.keystore`` does the file I/O;
``relay.crypto.qr`` renders share strings as terminal QR codes.
"""
