"""``python -m trainops_scheduling``: validate settings, check NATS and the database, serve."""

from trainops_scheduling.app import build_spec
from trainops_shared.service import run_service

if __name__ == "__main__":
    run_service("scheduling", build_spec)
