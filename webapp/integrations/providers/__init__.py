"""Clients for outside systems. HTTP to a provider happens only here, through ``ProviderClient``."""

from webapp.integrations.providers.client import ProviderClient, ProviderError, ProviderResponse

__all__ = ["ProviderClient", "ProviderError", "ProviderResponse"]
