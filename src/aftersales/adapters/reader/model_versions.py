"""The store's router model versions on disk: DATA_DIR/models/router-<n>.json, one per
training, and DATA_DIR/models/index.json (every version's score, label count and time, and
which is current). The current version is copied to DATA_DIR/router-model.json, the file
the router loads (`wiring.load_store_model`), so a desk that never trained is unchanged.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from aftersales.adapters.files.atomic import private_folder, write_atomically
from aftersales.domain.corrections import ModelVersion, version_to_dict
from aftersales.domain.errors import ConfigError, InputError

_INDEX = "index.json"


class FileModelVersions:
    """``RouterModels`` over a folder; ``current_file`` is the model the router loads."""

    def __init__(self, folder: Path, current_file: Path) -> None:
        self.folder = folder
        self.current_file = current_file

    def versions(self) -> list[ModelVersion]:
        return [_version(item) for item in self._index()["versions"]]

    def current(self) -> ModelVersion | None:
        """The version in use; None for the built-in model (or a model saved before versions)."""
        number = self._index()["current"]
        if number is None or not self.current_file.is_file():
            return None
        return next((v for v in self.versions() if v.version == number), None)

    def save(self, model: dict[str, Any], version: ModelVersion) -> ModelVersion:
        """Keep ``model`` as the next version (``version.version`` is ignored); made current
        when ``version.promoted``."""
        index = self._index()
        number = max((item["version"] for item in index["versions"]), default=0) + 1
        saved = ModelVersion(
            version=number,
            score=version.score,
            labels=version.labels,
            last_label_id=version.last_label_id,
            trained_at=version.trained_at,
            source=version.source,
            promoted=version.promoted,
        )
        private_folder(self.folder)
        data = json.dumps(model).encode("utf-8")
        write_atomically(self._file(number), data, private=True)
        index["versions"].append(version_to_dict(saved))
        if saved.promoted:
            write_atomically(self.current_file, data, private=True)
            index["current"] = number
        self._write(index)
        return saved

    def use(self, number: int | None) -> None:
        """Make a version current; None goes back to the built-in model."""
        index = self._index()
        if number is None:
            self.current_file.unlink(missing_ok=True)
        else:
            if number not in {item["version"] for item in index["versions"]}:
                known = ", ".join(str(item["version"]) for item in index["versions"]) or "none"
                raise InputError(f"no model version {number}; versions: {known} (or 'builtin')")
            write_atomically(self.current_file, self._file(number).read_bytes(), private=True)
        index["current"] = number
        self._write(index)

    def _file(self, number: int) -> Path:
        return self.folder / f"router-{number}.json"

    def _index(self) -> dict[str, Any]:
        path = self.folder / _INDEX
        if not path.is_file():
            return {"current": None, "versions": []}
        try:
            index: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            index.setdefault("current", None)
            index.setdefault("versions", [])
            return index
        except (OSError, ValueError) as error:
            raise ConfigError(f"{path}: cannot read the model versions: {error}") from None

    def _write(self, index: dict[str, Any]) -> None:
        private_folder(self.folder)
        write_atomically(self.folder / _INDEX, json.dumps(index, indent=1).encode("utf-8"), private=True)


def _version(item: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        version=int(item["version"]),
        score=float(item["score"]),
        labels=int(item["labels"]),
        last_label_id=int(item.get("last_label_id", 0)),
        trained_at=datetime.fromisoformat(item["trained_at"]),
        source=str(item.get("source", "desk")),
        promoted=bool(item.get("promoted", False)),
    )
