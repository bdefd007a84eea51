"""``python -m sim.fabric``: run the local near-RT RIC fabric (see :mod:`sim.fabric.server`)."""

import sys

from sim.fabric.server import main

if __name__ == "__main__":
    sys.exit(main())
