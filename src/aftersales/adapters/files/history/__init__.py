"""Readers of conversation history files: ours and other help desks' exports (see
docs/history-formats.md)."""
