"""Fixtures and conformance suites every backend must pass; imported only by tests."""
