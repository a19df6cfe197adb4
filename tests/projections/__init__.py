"""Tests of the read side: projections and the queries over them."""
