"""Test doubles that ship with the package: fakes of the outside world for tests and benchmarks.

``reader.testing.fake_edge`` is a loopback server that speaks Microsoft Edge's read-aloud protocol,
so the real ``edge_tts`` client can be driven without reaching Microsoft.

Nothing is imported here, so that ``python -m reader.testing.fake_edge`` runs cleanly.
"""
