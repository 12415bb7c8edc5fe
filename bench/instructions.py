"""Instructions counted by callgrind for chosen stretches of a benchmark's own work.

A benchmark started with ``--callgrind`` runs itself again under
``valgrind --tool=callgrind --instr-atstart=no`` (:func:`rerun_under_callgrind`); in that
run, :class:`Counting` switches the counting on and off around each measured stretch, through
a small library built with ``cc`` from ``valgrind/callgrind.h``'s client requests, and each
stretch ends in its own dump. Instruction counts do not move with other load on the machine,
unlike wall or CPU time, so two versions of the code compare in one number each.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_SOURCE = """
#include <valgrind/callgrind.h>
void counting_on(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void counting_off(void) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS; }
"""
FLAG = "--counting"


class Counting:
    """Switches callgrind's counting when the script runs under it (``--counting LIB``);
    does nothing otherwise."""

    def __init__(self, library: str | None) -> None:
        self.library = ctypes.CDLL(library) if library else None

    def __enter__(self) -> Counting:
        if self.library is not None:
            self.library.counting_on()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.library is not None:
            self.library.counting_off()


def rerun_under_callgrind(script: str, argv: list[str]) -> list[int]:
    """Run ``script`` with ``argv`` (and ``--counting``) under callgrind; the instructions of
    each counted stretch, in order."""
    folder = Path(tempfile.mkdtemp(prefix="callgrind-"))
    source, library = folder / "counting.c", folder / "counting.so"
    source.write_text(_SOURCE)
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", library, source], check=True)
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--dump-line=no"]
    command += [f"--callgrind-out-file={folder}/out", sys.executable, script, *argv]
    command += [FLAG, str(library)]
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(command, check=True, env=environment, stderr=subprocess.DEVNULL)
    dumps = sorted(folder.glob("out.*"), key=lambda path: int(path.suffix[1:]))
    counts = []
    for dump in dumps:
        totals = next(line for line in dump.read_text().splitlines() if line.startswith("totals:"))
        counts.append(int(totals.split()[1]))
    return counts
