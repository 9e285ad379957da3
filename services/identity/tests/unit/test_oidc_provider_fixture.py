"""The test provider's fixture says how to install what it misses instead of failing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from trainops_devtools.testing import oidc_provider

pytestmark = pytest.mark.unit


def test_missing_node_modules_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(oidc_provider, "PROVIDER_DIR", tmp_path)
    reason = oidc_provider.provider_unavailable_reason()
    if shutil.which("node") is None:
        assert reason is not None and "Node.js" in reason
    else:
        assert reason is not None and oidc_provider.INSTALL_COMMAND in reason
    with pytest.raises(oidc_provider.OidcProviderUnavailable):
        oidc_provider.OidcProvider(
            redirect_uris=["http://x/cb"], accounts=[], workdir=tmp_path
        ).start()


def test_the_committed_provider_program_and_lock_file_exist() -> None:
    directory = Path(oidc_provider.__file__).resolve().parents[3] / "oidc-provider"
    assert directory == oidc_provider.PROVIDER_DIR
    for name in ("provider.mjs", "package.json", "package-lock.json"):
        assert (directory / name).is_file(), name
