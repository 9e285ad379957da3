"""Cross-service tests: real nats-server, real databases, services as processes.

The fixtures (``nats_server``, ``nats_url``, ``fresh_nats_server``, ``nats_server_factory``,
``postgres_server``, ``postgres_database``, ``database_url``, ``service_processes``) come from
:mod:`trainops_devtools.testing.pytest_plugin`, loaded for every test run by ``addopts`` in the
root ``pyproject.toml`` (so ``pytest services/registration`` gets them too).
"""
