"""``python -m trainops_registration``: the registration service (port 8001 by default)."""

from trainops_registration.app import build_spec
from trainops_shared.service import run_service

if __name__ == "__main__":
    run_service("registration", build_spec)
