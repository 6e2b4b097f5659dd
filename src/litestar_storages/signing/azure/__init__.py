"""Azure Blob Storage: SharedKey request signing and shared access signatures (SAS).

Pure functions: the time is an argument, keys are frozen values, and the outputs are headers or
query parameters. Stages are public so tests can pin each one:

* SharedKey: :func:`canonicalized_headers`, :func:`canonicalized_resource`,
  :func:`shared_key_string_to_sign`, :func:`hmac_signature`, :func:`shared_key_authorization`,
  and :func:`sign_shared_key` for the whole request.
* SAS: the string to sign is a function of the SAS query parameters (keyed by their query
  names, ``sp``, ``st``, ``se``...) and the canonicalised resource;
  :func:`service_sas_string_to_sign`, :func:`user_delegation_sas_string_to_sign` and
  :func:`account_sas_string_to_sign` choose the field layout from ``sv``; :func:`hmac_signature`
  signs it; :func:`blob_sas`, :func:`container_sas`, :func:`account_sas` and
  :func:`user_delegation_sas` return the full token as unencoded pairs, and :func:`encode_sas`
  encodes them.

Every name is imported from this package; its modules are private:

* ``_keys``: :class:`AzureSharedKey`, :class:`UserDelegationKey`, :func:`hmac_signature`;
* ``_shared_key``: SharedKey request signing;
* ``_sas_layouts``: the SAS strings to sign, by ``sv``;
* ``_sas_tokens``: the SAS builders, permissions, :func:`encode_sas` and :func:`sas_window`;
* ``_blob_sas_signer``: :class:`BlobSasSigner`, the same blob SAS as :func:`blob_sas`, fast.

Specifications (Azure Storage REST reference): "Authorize with Shared Key", "Create a service
SAS", "Create an account SAS", "Create a user delegation SAS".
"""

from __future__ import annotations

from litestar_storages.signing.azure._blob_sas_signer import BlobSasSigner
from litestar_storages.signing.azure._keys import (
    DEFAULT_VERSION,
    AzureSharedKey,
    UserDelegationKey,
    hmac_signature,
)
from litestar_storages.signing.azure._sas_layouts import (
    LATEST_USER_DELEGATION_LAYOUT,
    account_sas_string_to_sign,
    canonicalized_sas_resource,
    service_sas_string_to_sign,
    user_delegation_sas_string_to_sign,
)
from litestar_storages.signing.azure._sas_tokens import (
    ACCOUNT_PERMISSIONS,
    BLOB_PERMISSIONS,
    SasWindow,
    account_sas,
    blob_sas,
    canonical_permissions,
    container_sas,
    encode_sas,
    sas_window,
    user_delegation_sas,
)
from litestar_storages.signing.azure._shared_key import (
    STANDARD_HEADERS,
    canonicalized_headers,
    canonicalized_resource,
    shared_key_authorization,
    shared_key_string_to_sign,
    sign_shared_key,
)

__all__ = [
    "ACCOUNT_PERMISSIONS",
    "BLOB_PERMISSIONS",
    "DEFAULT_VERSION",
    "LATEST_USER_DELEGATION_LAYOUT",
    "STANDARD_HEADERS",
    "AzureSharedKey",
    "BlobSasSigner",
    "SasWindow",
    "UserDelegationKey",
    "account_sas",
    "account_sas_string_to_sign",
    "blob_sas",
    "canonical_permissions",
    "canonicalized_headers",
    "canonicalized_resource",
    "canonicalized_sas_resource",
    "container_sas",
    "encode_sas",
    "hmac_signature",
    "sas_window",
    "service_sas_string_to_sign",
    "shared_key_authorization",
    "shared_key_string_to_sign",
    "sign_shared_key",
    "user_delegation_sas",
    "user_delegation_sas_string_to_sign",
]
