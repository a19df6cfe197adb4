"""The fault suite: the service under a dead database, a broken row, a hot stream, slow
clients and hostile dataset lines, each reproduced with real processes and real stores,
so that what issue #13 fixed stays fixed. Every test here carries the `fault` marker
(`pytest -m fault` runs the suite alone)."""
