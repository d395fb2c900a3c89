"""Storage used, as the subscription page's bar and the plan checker read it (in MB), and as both the
files page and the subscription page show it (the exact size)."""

from webapp.core.display import size
from webapp.files.services import MIB, bytes_used
from webapp.subscriptions.limits import usage_provider, usage_reading


@usage_provider("storage_mb")
def storage_mb_used(org) -> int:
    return -(-bytes_used(org) // MIB)


@usage_reading("storage_mb")
def storage_used(org) -> str:
    return size(bytes_used(org))
