"""The /o/<slug>/ai routes take no object id in their URL."""

SAMPLES: dict = {}
