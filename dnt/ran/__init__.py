"""The RAN side of the twin: slices per cell and the cell capacity model (PRBs → served traffic)."""

from dnt.ran.capacity import PRB_TABLE, CapacityModel, CellRadioConfig, CellReport, SlicePolicy, allocate_prbs
from dnt.ran.slices import SLICE_NAMES, SLICES, SliceSpec, slice_by_snssai, slice_demand

__all__ = ["PRB_TABLE", "CapacityModel", "CellRadioConfig", "CellReport", "SlicePolicy", "allocate_prbs",
           "SLICE_NAMES", "SLICES", "SliceSpec", "slice_by_snssai", "slice_demand"]
