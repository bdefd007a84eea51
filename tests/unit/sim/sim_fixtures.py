"""Hand-made traffic for the pure simulator tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import numpy as np

from dnt.data.frame import CHANNELS, Traffic

START_MS = 1_383_260_400_000  # 2013-11-01 00:00 Europe/Rome


def hand_traffic(cell_ids: np.ndarray, n_steps: int = 6) -> Traffic:
    """Activity = 100 × (step + 1) internet, 10 call_in, 0 call_out, 5 + 5 SMS on every cell."""
    values = np.zeros((len(cell_ids), n_steps, len(CHANNELS)), dtype=np.float32)
    values[..., CHANNELS.index("internet")] = 100.0 * (np.arange(n_steps) + 1)
    values[..., CHANNELS.index("call_in")] = 10.0
    values[..., CHANNELS.index("sms_in")] = 5.0
    values[..., CHANNELS.index("sms_out")] = 5.0
    return Traffic(np.asarray(cell_ids), START_MS, 600_000, values)
