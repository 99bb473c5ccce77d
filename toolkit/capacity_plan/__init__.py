"""The capacity and cost model behind ``trendstream plan`` (see docs/capacity.md)."""
