"""The E2 node simulator: gNBs replaying Milan traffic over E2 (KPM reports, RC slice controls).

See ``sim/README.md``. Entry points: ``python -m sim`` / ``dnt-e2sim`` (:mod:`sim.__main__`),
:class:`sim.runner.SimRunner` (library use), :class:`sim.testing.TestReceiver` (a tiny RIC side for tests).
"""

from sim.config import SimConfig, load_config
from sim.runner import SimRunner

__all__ = ["SimConfig", "SimRunner", "load_config"]
