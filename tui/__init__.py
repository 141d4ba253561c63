"""Jarshy terminal UI (Textual); talks to the daemon only through the local API client."""
