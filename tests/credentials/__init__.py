"""Keyless cloud credentials: every provider against a local fake of its endpoint (a package,
so module names stay unique)."""
