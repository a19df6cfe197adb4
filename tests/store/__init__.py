"""Tests for :mod:`tradeledger.store`."""
