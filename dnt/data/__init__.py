"""Milan data: readers (raw daily files, converted CSV), grid geometry, synthetic generator, windows."""

from dnt.data.frame import CHANNELS, DAY_MS, HOUR_MS, STEP_10MIN_MS, Traffic, local_calendar

__all__ = ["CHANNELS", "DAY_MS", "HOUR_MS", "STEP_10MIN_MS", "Traffic", "local_calendar"]
