"""Integration fixtures: the fabric's (real Redis, ``python -m sim.fabric``) come from ``fabric_support``."""

from fabric_support import fabric, fabric_env, fabric_redis, fabric_store  # noqa: F401
