"""A Kubernetes ConfigMap volume as the kubelet lays it out, for tests of code that must follow
ConfigMap updates: `feeds.yaml -> ..data/feeds.yaml`, `..data -> ..<timestamp>/`, and an update
writes a new timestamped folder and swaps `..data` atomically (never writes a file in place)."""
from __future__ import annotations

import os
from pathlib import Path


class ConfigMapVolume:
    """The layout kubelet's atomic writer makes: feeds.yaml -> ..data/feeds.yaml, ..data -> ..<ts>/."""

    def __init__(self, root: Path):
        self.root = root
        self.version = 0

    def publish(self, text: str) -> None:
        self.version += 1
        folder = self.root / f"..2026_01_01_00_00_{self.version:02d}.000"
        folder.mkdir()
        (folder / "feeds.yaml").write_text(text)
        tmp = self.root / "..data_tmp"
        tmp.symlink_to(folder.name)
        os.replace(tmp, self.root / "..data")      # the atomic swap
        if not (self.root / "feeds.yaml").is_symlink():
            (self.root / "feeds.yaml").symlink_to("..data/feeds.yaml")

    @property
    def path(self) -> Path:
        return self.root / "feeds.yaml"
