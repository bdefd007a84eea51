"""DNT-RIC: digital network twins for the O-RAN near-RT RIC.

Core library. It knows nothing of RMR or Kubernetes; the deployables in ``xapps/``,
``rapps/`` and ``sim/`` wire its pieces to a RIC runtime.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
