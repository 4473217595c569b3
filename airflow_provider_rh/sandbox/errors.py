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


#: AD FS answers a failed client authentication with HTTP 400 Bad Request, not 401 (as seen in
#: AzureAD/microsoft-authentication-library-for-js#6915: ``POST .../adfs/oauth2/token/ 400 (Bad
#: Request)`` with ``invalid_client`` / MSIS9622). RFC 6749 §5.2 allows either, and other servers
#: (oidc-provider, Entra ID) answer 401, so clients go by the error, not by the status.
INVALID_CLIENT_STATUS = 400


def invalid_client(reason: str) -> AdfsError:
    """400 ``invalid_client`` with AD FS's MSIS9622 text, then (unlike AD FS) which rule failed."""
    return AdfsError(INVALID_CLIENT_STATUS, "invalid_client", f"{MSIS9622} Sandbox: {reason}.")


def invalid_request(description: str) -> AdfsError:
    return AdfsError(400, "invalid_request", description)
