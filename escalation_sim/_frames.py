"""Tables shared by the batch results and the Mesa model, so both give one layout."""

from __future__ import annotations

import numpy as np
import pandas as pd


def trajectory_frame(levels: np.ndarray, pairs: np.ndarray, actor_ids) -> pd.DataFrame:
    """Tidy frame of levels of shape ``(n_steps, n_pairs)``: step, actor, target, level."""
    n_steps, n_pairs = levels.shape
    ids = np.array(actor_ids, dtype=object)
    return pd.DataFrame({
        "step": np.repeat(np.arange(n_steps), n_pairs),
        "actor": np.tile(ids[pairs[:, 0]], n_steps),
        "target": np.tile(ids[pairs[:, 1]], n_steps),
        "level": levels.ravel().astype(np.int8),
    })
