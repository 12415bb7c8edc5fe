"""Generate a realistic contacts CSV for the bulk import benchmark.

    .venv/bin/python bench/import_generate.py var/bench/contacts-500k.csv --rows 500000
    .venv/bin/python bench/import_generate.py var/bench/changed.csv --rows 500000 --variant 1

Columns: Full Name, Phone Number, Country Code, Email Address, City, WhatsApp Opted,
Signed Up, Last Order (two datetimes), Orders (a number), Interests (a list). Phones are
distinct Indian mobile numbers; ``--variant`` changes every row's values but not the phones,
for the "re-import with every row changed" run. About 48 MB for 500,000 rows.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

FIRST = ["Asha", "Ravi", "Priya", "Arjun", "Meera", "Kabir", "Ananya", "Vikram", "Zoya", "Rohan"]
LAST = ["Sharma", "Iyer", "Khan", "Patel", "Reddy", "Das", "Menon", "Singh", "Gupta", "Nair"]
CITIES = ["Mumbai", "Delhi", "Bengaluru", "Chennai", "Kolkata", "Pune", "Hyderabad", "Jaipur"]
INTERESTS = ["shoes", "sarees", "electronics", "books", "toys", "groceries", "beauty"]
HEADER = [
    "Full Name",
    "Phone Number",
    "Country Code",
    "Email Address",
    "City",
    "WhatsApp Opted",
    "Signed Up",
    "Last Order",
    "Orders",
    "Interests",
]


def generate(path: Path, rows: int, variant: int = 0, seed: int = 7) -> None:
    rng = random.Random(seed + variant)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            day = 1 + (i + variant) % 28
            writer.writerow(
                [
                    f"{first} {last}",
                    f"{7000000000 + i * 7:010d}",
                    "91",
                    f"{first.lower()}{i}@mail.in",
                    rng.choice(CITIES),
                    "TRUE" if (i + variant) % 3 else "FALSE",
                    f"2024-{1 + i % 12:02d}-{day:02d}T{i % 24:02d}:{i % 60:02d}Z",
                    f"2025-{1 + (i + variant) % 12:02d}-{day:02d}",
                    str(rng.randint(0, 40) + variant),
                    ";".join(rng.sample(INTERESTS, 1 + i % 2)),
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--variant", type=int, default=0)
    args = parser.parse_args()
    generate(args.path, args.rows, args.variant)
    print(f"{args.path}: {args.rows:,} rows, {args.path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
