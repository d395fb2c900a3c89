"""Storage used, as the subscription page's bar and the plan checker read it (in MB)."""

from webapp.files.services import MIB, bytes_used
from webapp.subscriptions.limits import usage_provider


@usage_provider("storage_mb")
def storage_mb_used(org) -> int:
    return -(-bytes_used(org) // MIB)
