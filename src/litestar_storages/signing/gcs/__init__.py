"""Google Cloud Storage: V4 signed URLs, signed POST policies, service-account JWT assertions.

Signed URLs and POST policies are split in two pure steps so that the signature itself can be
computed elsewhere (the IAM Credentials ``signBlob`` call, used on machines that have no key
file):

* ``prepare_*`` builds everything up to the string to sign;
* ``finish_*`` assembles the URL or form fields from a signature computed by anyone.

:func:`generate_signed_url` and :func:`generate_signed_post_policy` chain both steps with a
local key: RSA (``GOOG4-RSA-SHA256``, a service-account key) or HMAC (``GOOG4-HMAC-SHA256``, an
HMAC key, whose signing key is derived as in SigV4 with ``GOOG4``/``goog4_request``).

``cryptography`` and ``pyjwt`` are imported inside the functions that need them, so this package
(and the S3 signer) can be imported without them.

Every name is imported from this package; its modules are private:

* ``_keys``: :class:`GcsServiceAccount`, :class:`GcsHmacKey` and how each signs locally;
* ``_stages``: credential scope, canonical request, string to sign, the URL's host and path;
* ``_signed_url``: :func:`prepare_signed_url`, :func:`finish_signed_url`,
  :func:`generate_signed_url`;
* ``_post_policy``: :func:`prepare_post_policy`, :func:`finish_post_policy`,
  :func:`generate_signed_post_policy`;
* ``_oauth``: :func:`jwt_assertion` and the token request body.

Specifications: "V4 signing process with your own program", "Canonical requests" and
"Signatures" in the Cloud Storage documentation; "Using OAuth 2.0 for Server to Server
Applications" for the JWT assertion.
"""

from __future__ import annotations

from litestar_storages.signing._canonical import MAX_EXPIRES
from litestar_storages.signing.gcs._keys import (
    GOOG4_HMAC,
    GOOG4_RSA,
    TOKEN_URI,
    GcsHmacKey,
    GcsServiceAccount,
    hmac_signing_key,
    rsa_sign,
    sign_string,
)
from litestar_storages.signing.gcs._oauth import (
    JWT_BEARER_GRANT,
    MAX_JWT_LIFETIME,
    jwt_assertion,
    jwt_claims,
    token_request_body,
)
from litestar_storages.signing.gcs._post_policy import (
    PreparedPostPolicy,
    finish_post_policy,
    generate_signed_post_policy,
    post_policy_document,
    prepare_post_policy,
)
from litestar_storages.signing.gcs._signed_url import (
    PreparedSignedUrl,
    finish_signed_url,
    generate_signed_url,
    prepare_signed_url,
)
from litestar_storages.signing.gcs._stages import (
    DEFAULT_HOST,
    UNSIGNED_PAYLOAD,
    UrlStyle,
    canonical_request,
    credential_scope,
    string_to_sign,
)

__all__ = [
    "DEFAULT_HOST",
    "GOOG4_HMAC",
    "GOOG4_RSA",
    "JWT_BEARER_GRANT",
    "MAX_EXPIRES",
    "MAX_JWT_LIFETIME",
    "TOKEN_URI",
    "UNSIGNED_PAYLOAD",
    "GcsHmacKey",
    "GcsServiceAccount",
    "PreparedPostPolicy",
    "PreparedSignedUrl",
    "UrlStyle",
    "canonical_request",
    "credential_scope",
    "finish_post_policy",
    "finish_signed_url",
    "generate_signed_post_policy",
    "generate_signed_url",
    "hmac_signing_key",
    "jwt_assertion",
    "jwt_claims",
    "post_policy_document",
    "prepare_post_policy",
    "prepare_signed_url",
    "rsa_sign",
    "sign_string",
    "string_to_sign",
    "token_request_body",
]
