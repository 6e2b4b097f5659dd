"""Credential endpoints: metadata servers and token services, asked under a deadline.

Cloud credential providers (instance metadata, managed identity, container credentials, token
services) are small REST exchanges, sent through the shared pool like everything else. Two
things set them apart from storage requests:

* **A metadata server that is not there must fail fast.** A laptop has no ``169.254.169.254``,
  and nobody should wait a minute to learn that. Link-local endpoints therefore get their own
  pool options (short connect and read timeouts: botocore uses 1 second for EC2's, google-auth
  3 for Google's), and every exchange runs under a total deadline (:func:`send_within`), so a
  server that accepts the connection and then says nothing is bounded too.
* **They must not go through the application's client.** An injected ``httpx.AsyncClient`` may
  carry a proxy; a link-local address is only reachable directly. :func:`local_sender` always
  uses the library's own pool. Token services on the internet (``login.microsoftonline.com``,
  ``sts.amazonaws.com``, ``oauth2.googleapis.com``) are ordinary HTTPS endpoints and use the
  storage's sender, so an application's proxy applies to them.

What these endpoints return is secret: nothing here logs a body, and errors carry the
provider's error code and message (parsed by the backend's error parser), never a response.
Provider specifics (paths, headers, the shape of the answer) stay in each backend's
``credentials`` module; this module knows none of them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

import anyio
import httpx

from litestar_storages._http.clock import Clock, system_clock
from litestar_storages._http.errors import ErrorParser, parse_generic_error
from litestar_storages._http.pool import ClientHandle, PoolOptions
from litestar_storages._http.request import HttpRequest
from litestar_storages._http.send import Sender
from litestar_storages.exceptions import StorageTimeoutError
from litestar_storages.retry import RetryConfig

__all__ = ["is_loopback", "local_pool_options", "local_sender", "send_within"]


def local_pool_options(timeout: float) -> PoolOptions:
    """Pool options for link-local metadata endpoints: every timeout is ``timeout`` seconds.

    Storages with the same ``timeout`` share one client per event loop, as with any options.
    """
    return PoolOptions(
        max_connections=4,
        connect_timeout=timeout,
        read_timeout=timeout,
        write_timeout=timeout,
        pool_timeout=timeout,
    )


def local_sender(
    *,
    backend: str,
    timeout: float,
    attempts: int = 1,
    error_parser: ErrorParser = parse_generic_error,
    request_id_headers: Sequence[str] = (),
    clock: Clock = system_clock,
) -> Sender:
    """A sender for a metadata endpoint: the library's own pool with short timeouts.

    Args:
        backend: The backend's short name, for errors.
        timeout: Seconds allowed for connecting and for each read.
        attempts: Attempts per request (connection failures and 5xx/429 are retried quickly).
        error_parser: Reads the endpoint's error bodies.
        request_id_headers: Response headers carrying a request id.
        clock: Current time.

    The caller releases ``sender.handle`` when it is done (the storage's ``close()``).
    """
    retry = RetryConfig(max_attempts=attempts, base_delay=0.1, max_delay=1.0)
    return Sender(
        ClientHandle(local_pool_options(timeout)),
        backend=backend,
        error_parser=error_parser,
        request_id_headers=request_id_headers,
        retry=retry,
        clock=clock,
    )


async def send_within(
    sender: Sender, request: HttpRequest, *, deadline: float, what: str
) -> httpx.Response:
    """Send ``request`` (with the sender's retries), giving up after ``deadline`` seconds.

    Args:
        sender: Where to send it.
        request: The request.
        deadline: Total seconds for every attempt together.
        what: The endpoint, as named in the error (``"the GCE metadata server at ..."``).

    Raises:
        StorageTimeoutError: The deadline passed.
        StorageError: Whatever the sender raised for a failed exchange.
    """
    with anyio.move_on_after(deadline):
        return await sender.send(request)
    # Only reached when the deadline cancelled the send (its own failures raise).
    raise StorageTimeoutError(
        f"{what} did not answer within {deadline:g} s", backend=sender.backend
    )


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is ``localhost`` or a loopback address (127.0.0.0/8, ``::1``).

    Plain ``http`` to a token service is refused except to such hosts (local fakes, sidecars):
    a client secret or an assertion must not cross a network in clear.
    """
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
