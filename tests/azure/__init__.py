"""Unit and Azurite tests of the Azure backend (a package, so module names stay unique)."""
