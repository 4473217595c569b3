"""Token endpoint refusals in AD FS's shape: ``{"error": ..., "error_description": "MSIS....: ..."}``."""

from __future__ import annotations

MSIS9622 = (
    "MSIS9622: Client authentication failed. Please verify the credential provided for client "
    "authentication is valid."
)


class AdfsError(Exception):
    """An OAuth error (RFC 6749 §5.2) the token endpoint answers with ``status``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_client(reason: str) -> AdfsError:
    """401 ``invalid_client``; unlike AD FS, the sandbox says which rule failed."""
    return AdfsError(401, "invalid_client", f"{MSIS9622} Sandbox: {reason}.")


def invalid_request(description: str) -> AdfsError:
    return AdfsError(400, "invalid_request", description)
