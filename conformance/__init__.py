"""The conformance suite: behavioural tests every storage backend must pass.

Tests take a ``storage`` fixture and use only the public API of ``litestar_storages``; where
backends legitimately differ, they read :class:`~conformance.capabilities.Capabilities` instead of
skipping. See ``conformance/README.md``.
"""
