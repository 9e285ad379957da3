"""``python -m trainops_reporting``: run the reporting service (default port 8004)."""

from trainops_reporting.app import build_spec
from trainops_shared.service import run_service

if __name__ == "__main__":
    run_service("reporting", build_spec)
