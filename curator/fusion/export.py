"""The fused SFT set: chat ``messages`` per row, with the LLaMA-Factory registration."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from curator.core.io import write_table
from curator.core.outputs import OutputFile


@dataclass
class FusedMessages:
    """``messages`` (+ ``mode``, ``domain``) rows for TRL's SFTTrainer and LLaMA-Factory."""

    config: str = "fused"
    split: str = "train"
    format: str = "jsonl"

    def write(self, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]:
        rel = f"data/{self.config}/{self.split}.{self.format}"
        rows = df.select("messages", "mode", "domain", "language", "id")
        write_table(rows, Path(out_dir) / rel)
        info_path = Path(out_dir) / "data" / self.config / "dataset_info.json"  # as the other SFT exports
        info = {f"{self.config}_{self.split}": {"file_name": Path(rel).name, "formatting": "sharegpt",
                             "columns": {"messages": "messages"},
                             "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                                      "assistant_tag": "assistant", "system_tag": "system"}}}
        info_path.parent.mkdir(parents=True, exist_ok=True)
        info_path.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
        return [OutputFile(self.config, self.split, rel, rows.height, self.format)]
