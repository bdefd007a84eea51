"""Deployment: xApp descriptors, Helm charts, the rApp CSAR and the ``dntctl`` operations CLI."""
