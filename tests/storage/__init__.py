"""Tests for :mod:`storage`."""
