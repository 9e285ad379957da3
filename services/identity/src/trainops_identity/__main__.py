"""``python -m trainops_identity``: run the identity service (port 8005 by default)."""

from trainops_identity.app import build_spec
from trainops_shared.service import run_service

if __name__ == "__main__":
    run_service("identity", build_spec)
