"""Readers of another tool's history: one module per format, each reading its file into the
conversations of ``domain/history.py`` (and a ``BadRecord`` for each record it skips);
``readers.py`` names them and finds a file's format."""
