"""The package version, read by hatchling at build time and by ``__init__`` at run time."""

__version__ = "0.3.0"
