"""The benchmarks' two consoles: figures on stdout, progress and warnings on stderr."""

from __future__ import annotations

from rich.console import Console


out = Console(highlight=False)
if not out.is_terminal:
    out = Console(highlight=False, width=120)  # piped into a file or a README: don't wrap at 80
err = Console(stderr=True, highlight=False)
