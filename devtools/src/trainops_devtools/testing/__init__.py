"""Test harness: real NATS servers, PostgreSQL test databases and service processes.

* :mod:`trainops_devtools.testing.ports` -- free TCP ports.
* :mod:`trainops_devtools.testing.postgres` -- create/drop uniquely named test databases.
* :mod:`trainops_devtools.testing.processes` -- run ``python -m trainops_<name>``, wait for /ready.
* :mod:`trainops_devtools.testing.pytest_plugin` -- the fixtures (register it in a conftest.py).

The NATS server itself is :class:`trainops_devtools.nats_server.NatsServer`. This package imports
nothing heavy at import time (``nats_server`` imports :mod:`.ports` from here).
"""

from trainops_devtools.testing.ports import free_port

__all__ = ["free_port"]
