"""Build the embedded Chinook sample: ``python -m analyst.sample <Chinook_Sqlite.sql> <out.sqlite>``.

The SQL script (lerocha/chinook-database v1.4.5, MIT; see ../shared/data/text-to-sql/SOURCES.md) is run into a
fresh SQLite file, which is then vacuumed and written atomically; ``make analyst-sample`` calls this.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from pathlib import Path


def build_sample(script: Path, target: Path) -> Path:
    """Run ``script`` into a new database at ``target`` (replaced atomically), and return ``target``."""
    sql = script.read_text(encoding="utf-8-sig")
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, suffix=".building")
    os.close(descriptor)
    try:
        connection = sqlite3.connect(temporary)
        try:
            connection.executescript(sql)
            connection.commit()
            connection.execute("VACUUM")
        finally:
            connection.close()
        os.chmod(temporary, 0o644)  # Lambda runs the code as another user: the file must be world-readable
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m analyst.sample <Chinook_Sqlite.sql> <out.sqlite>")
    built = build_sample(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"built {built} ({built.stat().st_size} bytes)")
