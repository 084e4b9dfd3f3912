"""Progress bars (tqdm, on standard error) that cost nothing when switched off."""

from __future__ import annotations

import sys


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def progress_bar(total: int, *, enabled: bool, unit: str, desc: str, initial: int = 0, unit_scale: bool = True):
    """A tqdm bar over ``total`` units, or a stand-in with the same ``update``/``close``.
    ``unit_scale`` writes large counts as 1.2M; leave it off for a few whole items (files)."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit=unit, unit_scale=unit_scale, desc=desc, file=sys.stderr)
