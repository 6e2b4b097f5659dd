"""Microsoft Entra ID and managed identity settings, resolved from the config and environment.

Pure and cheap, like the rest of ``config``: the environment is an argument. The variable names
are azure-identity's, so a deployment configured for the Azure SDKs works unchanged:

* ``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``: a service principal
  (``EnvironmentCredential``); ``AZURE_CLIENT_ID`` also picks a user-assigned managed identity;
* ``AZURE_FEDERATED_TOKEN_FILE`` (with tenant and client id): workload identity, as the AKS
  webhook injects it (``WorkloadIdentityCredential``);
* ``AZURE_AUTHORITY_HOST``: the Entra ID authority of sovereign clouds;
* ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER``: App Service, Functions and Container Apps'
  managed identity endpoint; otherwise the Instance Metadata Service at
  ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` or ``http://169.254.169.254``
  (``ManagedIdentityCredential``).

Azure Arc, Service Fabric and Cloud Shell managed identity (``IMDS_ENDPOINT``,
``IDENTITY_SERVER_THUMBPRINT``, ``MSI_ENDPOINT``) are recognised and reported as unsupported
rather than mistaken for IMDS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from litestar_storages.exceptions import StorageConfigurationError

if TYPE_CHECKING:
    from litestar_storages.backends.azure.config import AzureConfig

__all__ = [
    "DEFAULT_AUTHORITY",
    "DEFAULT_IMDS",
    "STORAGE_RESOURCE",
    "STORAGE_SCOPE",
    "IdentitySettings",
    "resolve_identity",
]

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
"""The Entra ID authority of Azure's public cloud."""

DEFAULT_IMDS = "http://169.254.169.254"
"""The Instance Metadata Service's link-local address."""

STORAGE_SCOPE = "https://storage.azure.com/.default"
"""The scope of tokens for Azure Storage (client credentials, workload identity)."""

STORAGE_RESOURCE = "https://storage.azure.com"
"""The same audience as a managed identity ``resource`` parameter."""

# azure-identity's check: a tenant id goes into the token URL's path.
_TENANT = re.compile(r"^[0-9A-Za-z.-]+$")


@dataclass(frozen=True, repr=False)
class IdentitySettings:
    """Where Entra ID tokens can come from; ``repr`` hides the secret and the identity header.

    Attributes:
        tenant_id: The tenant (service principal, workload identity).
        client_id: The application id, or the user-assigned managed identity's client id.
        client_secret: A service principal's secret.
        federated_token_file: Workload identity's token file.
        authority_host: The Entra ID authority, without a trailing ``/``.
        identity_endpoint: App Service's managed identity endpoint.
        identity_header: App Service's per-process secret for that endpoint.
        imds_origin: The Instance Metadata Service's origin.
        timeout: ``AzureConfig.identity_timeout``.
        unsupported: The managed identity flavour found in the environment when it is one
            this library does not implement (Azure Arc, Service Fabric, Cloud Shell).
        client_certificate: ``AZURE_CLIENT_CERTIFICATE_PATH`` is set (not implemented).
        sources: For each setting, where it came from (``config.tenant_id``, ``AZURE_TENANT_ID``).
    """

    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    federated_token_file: str | None = None
    authority_host: str = DEFAULT_AUTHORITY
    identity_endpoint: str | None = None
    identity_header: str | None = None
    imds_origin: str = DEFAULT_IMDS
    timeout: float = 2.0
    unsupported: str | None = None
    client_certificate: bool = False
    sources: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"IdentitySettings(tenant_id={self.tenant_id!r}, client_id={self.client_id!r}, "
            f"client_secret={'***' if self.client_secret else None}, "
            f"federated_token_file={self.federated_token_file!r}, "
            f"authority_host={self.authority_host!r}, "
            f"identity_endpoint={self.identity_endpoint!r}, imds_origin={self.imds_origin!r})"
        )

    def source_of(self, *names: str) -> str:
        """Where the named settings came from, for a credential's description."""
        return "/".join(self.sources.get(name, name) for name in names)


def _unsupported(environ: Mapping[str, str]) -> str | None:
    if environ.get("IDENTITY_ENDPOINT") and environ.get("IMDS_ENDPOINT"):
        return "Azure Arc (IDENTITY_ENDPOINT with IMDS_ENDPOINT)"
    if environ.get("IDENTITY_ENDPOINT") and environ.get("IDENTITY_SERVER_THUMBPRINT"):
        return "Service Fabric (IDENTITY_SERVER_THUMBPRINT)"
    if environ.get("MSI_ENDPOINT"):
        return "Cloud Shell or legacy App Service (MSI_ENDPOINT)"
    return None


def resolve_identity(config: AzureConfig, environ: Mapping[str, str]) -> IdentitySettings:
    """The Entra ID settings of ``config``, completed from ``environ``: the config wins.

    Raises:
        StorageConfigurationError: A tenant id with characters a tenant id cannot have.
    """
    sources: dict[str, str] = {}
    values: dict[str, str | None] = {}
    for name, variable in (
        ("tenant_id", "AZURE_TENANT_ID"),
        ("client_id", "AZURE_CLIENT_ID"),
        ("client_secret", "AZURE_CLIENT_SECRET"),
        ("federated_token_file", "AZURE_FEDERATED_TOKEN_FILE"),
        ("authority_host", "AZURE_AUTHORITY_HOST"),
    ):
        configured = getattr(config, name)
        value = configured or environ.get(variable) or None
        values[name] = value
        if value:
            sources[name] = f"config.{name}" if configured else variable
    tenant = values["tenant_id"]
    if tenant is not None and not _TENANT.match(tenant):
        raise StorageConfigurationError(
            f"{sources['tenant_id']}: a tenant id has only letters, digits, '.' and '-'",
            backend="azure",
        )
    authority = (values["authority_host"] or DEFAULT_AUTHORITY).rstrip("/")
    if "://" not in authority:
        authority = f"https://{authority}"  # azure-identity accepts a bare host name
    endpoint = environ.get("IDENTITY_ENDPOINT") or None
    header = environ.get("IDENTITY_HEADER") or None
    unsupported = _unsupported(environ)
    if unsupported is not None or header is None:
        endpoint = header = None
    imds = (environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST") or DEFAULT_IMDS).rstrip("/")
    if imds != DEFAULT_IMDS:
        sources["imds"] = "AZURE_POD_IDENTITY_AUTHORITY_HOST"
    return IdentitySettings(
        tenant_id=tenant,
        client_id=values["client_id"],
        client_secret=values["client_secret"],
        federated_token_file=values["federated_token_file"],
        authority_host=authority,
        identity_endpoint=endpoint,
        identity_header=header,
        imds_origin=imds,
        timeout=config.identity_timeout,
        unsupported=unsupported,
        client_certificate=bool(environ.get("AZURE_CLIENT_CERTIFICATE_PATH")),
        sources=sources,
    )
