"""``python -m trainops_feedback``: run the feedback service (port 8003 by default)."""

from trainops_feedback.app import build_spec
from trainops_shared.service import run_service

if __name__ == "__main__":
    run_service("feedback", build_spec)
