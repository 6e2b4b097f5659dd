"""How the S3 credential sources reach AWS: metadata endpoints and STS.

* The EC2 instance metadata service and the ECS/EKS container credential endpoints are asked
  through the library's own pool with short timeouts (``_http.endpoint``): botocore's defaults
  are 1 second and one attempt for IMDS (``AWS_METADATA_SERVICE_TIMEOUT``,
  ``AWS_METADATA_SERVICE_NUM_ATTEMPTS``, honoured here too) and 2 seconds with 3 attempts for
  container credentials. Never through an application's client: its proxy could not reach a
  link-local address.
* STS (``AssumeRole``, ``AssumeRoleWithWebIdentity``) is an ordinary HTTPS service: it is asked
  through the storage's own pool options (so equal options share the storage's connections)
  and the application's client when one was given.

Senders are created on first use, so a chain whose sources never need the network imports
nothing of the HTTP stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from litestar_storages._http.clock import Clock, system_clock

if TYPE_CHECKING:
    import httpx

    from litestar_storages._http.auth import Signer
    from litestar_storages._http.errors import ErrorParser
    from litestar_storages._http.pool import TransportFactory
    from litestar_storages._http.send import Sender
    from litestar_storages._http.settings import HttpSettings

__all__ = ["AwsHttp"]

IMDS_TIMEOUT = 1.0
IMDS_ATTEMPTS = 1
CONTAINER_TIMEOUT = 2.0
CONTAINER_ATTEMPTS = 3


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default


class AwsHttp:
    """The senders of the credential sources of one storage.

    Args:
        environ: Read for ``AWS_METADATA_SERVICE_TIMEOUT`` and ``..._NUM_ATTEMPTS``.
        client: The application's client, for STS (never for metadata endpoints).
        settings: The storage's HTTP settings (its config), for STS; ``None``: the defaults.
        transport_factory: The storage's transport factory, for STS.
        clock: Current time.
    """

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        client: httpx.AsyncClient | None = None,
        settings: HttpSettings | None = None,
        transport_factory: TransportFactory | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.imds_timeout = _number(environ, "AWS_METADATA_SERVICE_TIMEOUT", IMDS_TIMEOUT)
        self.imds_attempts = max(
            1, int(_number(environ, "AWS_METADATA_SERVICE_NUM_ATTEMPTS", IMDS_ATTEMPTS))
        )
        self.clock = clock
        self._client = client
        self._settings = settings
        self._transport_factory = transport_factory
        self._local: dict[tuple[float, int], Sender] = {}
        self._sts: Sender | None = None

    def local(self, *, timeout: float, attempts: int, error_parser: ErrorParser) -> Sender:
        """A sender for a metadata endpoint (own pool, short timeouts)."""
        sender = self._local.get((timeout, attempts))
        if sender is None:
            from litestar_storages._http.endpoint import local_sender

            sender = self._local[(timeout, attempts)] = local_sender(
                backend="s3",
                timeout=timeout,
                attempts=attempts,
                error_parser=error_parser,
                clock=self.clock,
            )
        return sender

    def sts(self, error_parser: ErrorParser, *, signer: Signer | None = None) -> Sender:
        """A sender for STS (the storage's pool options); unsigned unless ``signer`` is given
        (``AssumeRole`` signs with the source credentials of the moment)."""
        from litestar_storages._http.send import Sender

        if self._sts is None:
            from litestar_storages._http.pool import ClientHandle, PoolOptions

            if self._settings is None:
                options = PoolOptions(transport_factory=self._transport_factory)
            else:
                # The storage's own options: STS shares the storage's pooled connections.
                options = PoolOptions.from_settings(
                    self._settings, transport_factory=self._transport_factory
                )
            handle = ClientHandle(options, client=self._client)
            self._sts = Sender(
                handle,
                backend="s3",
                error_parser=error_parser,
                request_id_headers=("x-amzn-requestid",),
                clock=self.clock,
            )
        if signer is None:
            return self._sts
        return Sender(
            self._sts.handle,
            backend="s3",
            signer=signer,
            error_parser=error_parser,
            request_id_headers=("x-amzn-requestid",),
            clock=self.clock,
        )

    async def release(self) -> None:
        """Give back every hold on the shared pools. Idempotent."""
        for sender in self._local.values():
            await sender.handle.release()
        if self._sts is not None:
            await self._sts.handle.release()
