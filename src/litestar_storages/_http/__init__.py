"""The HTTP machinery every cloud backend shares, written once and provider-neutral.

* ``pool``: the one shared ``httpx.AsyncClient`` per event loop (reference-counted, or injected
  by the application), its limits and timeouts, and the ``transport_factory`` seam.
* ``send``: build, sign, send and classify each attempt; retries with backoff, ``Retry-After``,
  clock-skew correction, never resending a body that cannot be replayed.
* ``errors``: httpx exceptions and HTTP error responses mapped to the ``StorageError`` tree in
  exactly one place.
* ``auth``: the per-attempt signer hook and an ``httpx.Auth`` adapter around it.
* ``credentials``: the lazy, single-flight credential cache with advisory/mandatory windows.

Provider specifics (how an error body is parsed, which header carries the request id, how a
request is signed) are parameters supplied by the backend, so S3, GCS and Azure use this package
unchanged. It imports no backend and no ``signing`` module.

This ``__init__`` deliberately imports nothing: ``credentials`` is used while presigning URLs,
which must not pay for importing httpx (see DESIGN.md, "Import direction").
"""
