"""The scale benchmark (`make bench`): the scorecard on a large organisation, beside a pandas reference."""
