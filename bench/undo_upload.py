"""Undo speed and memory: ``manage.py undo_upload`` on uploads of N rows.

    .venv/bin/python bench/undo_upload.py --database sqlite --rows 500000
    .venv/bin/python bench/undo_upload.py --database postgres --rows 500000

On a fresh database (``bench/import_bench.py``'s), each step in its own process: import
the generated N-row CSV (all new: upload A), then the copy with every row's values changed
(all updated: upload B); edit 1,000 contacts by hand; time ``undo_upload B`` (every value
put back but those 1,000 names, kept), then ``undo_upload A`` (every contact it created was
changed since by B, so every one is kept and listed: the "kept" path, no deletes).

Wall time of the whole command (start-up included), its CPU time and its peak resident
memory (``wait4``'s ``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from import_bench import MAPS, environment, files, run  # noqa: E402

EDIT = """
from contacts.models import Contact
from contacts.services import Actor, contact_field_update
ids = Contact.objects.order_by("pk").values_list("pk", flat=True)[:: max(1, {rows} // 1000)]
for pk in list(ids)[:1000]:
    contact_field_update(actor=Actor.system(), contact_id=pk, field_key="name", value="Edited")
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=500_000)
    options = parser.parse_args()
    python = sys.executable
    first, changed, _ = files(options.rows)
    env = environment(options.database)
    run([python, "manage.py", "migrate", "--noinput", "-v0"], env)
    ids = []
    for path in (first, changed):
        command = [python, "manage.py", "import_contacts", "--tag", "Bench", *MAPS, str(path)]
        wall, cpu, rss, output = run(command, env)
        ids.append(re.search(r"Upload id: (\d+)", output).group(1))
        print(f"import {path.name}: {wall:.1f} s wall, {cpu:.1f} s CPU, {rss} MB", flush=True)
    run([python, "manage.py", "shell", "-c", EDIT.format(rows=options.rows)], env)
    for label, job_id in (
        ("undo the re-import (all updated)", ids[1]),
        ("undo the first import (all new)", ids[0]),
    ):
        wall, cpu, rss, output = run([python, "manage.py", "undo_upload", job_id], env)
        summary = output.strip().splitlines()[1] if "\n" in output.strip() else output
        print(f"{label}: {wall:.1f} s wall, {cpu:.1f} s CPU, {rss} MB peak", flush=True)
        print(f"  {summary[:200]}", flush=True)


if __name__ == "__main__":
    main()
