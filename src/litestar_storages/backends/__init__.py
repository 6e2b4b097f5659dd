"""Storage backends. Each sub-module exports its ``(XConfig, XStorage)`` pair.

The cloud backends are packages split the same way (``config``, ``credentials``, ``client``,
``storage``); importing this package imports none of them.
"""
