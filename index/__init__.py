"""Building, storing and loading indexes."""
