"""Reference templates of the six architectures, shipped as package data."""
