"""Tests of the `tradeledger` command line, run as a real subprocess."""
