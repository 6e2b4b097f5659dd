"""Unit and emulator tests of the GCS backend (a package, so its conftest has a unique name)."""
