"""The write-path baseline: a bare Litestar POST endpoint, served exactly like a service.

It decodes and validates the registration service's own request Struct
(``RegistrationRequest``, via ``JSONBody``) and answers 201 with a small JSON body: no auth, no
database, no outbox. ``python -m bench.bare_app PORT`` runs it under uvicorn with the same
settings as :func:`trainops_shared.service.run_service` (one worker, uvloop/httptools when
installed, no access log), so the ratio against it isolates what the service adds.
"""

from __future__ import annotations

import sys
from typing import Any

from litestar import Litestar, post
from litestar.params import JSONBody

from trainops_registration.api.schemas import RegistrationRequest


@post("/registrations", status_code=201)
async def register(data: JSONBody[RegistrationRequest]) -> dict[str, Any]:
    """Validate the body and answer like the real route would (shape only)."""
    return {"session_id": str(data.session_id), "status": "confirmed"}


app = Litestar(route_handlers=[register], debug=False)


def main() -> None:
    import uvicorn

    port = int(sys.argv[1])
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
