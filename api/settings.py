"""The API's settings are the product's: `tradeledger.settings.Settings`.

The composition root reads them once (tradeledger.bootstrap) and `create_app` is handed
them, with the Services or on their own; nothing in the API reads the environment. The
API uses the keys (TRADELEDGER_API_KEYS, TRADELEDGER_API_KEYS_FILE), public reads, the
body size limit and the SSE heartbeat.
"""

from __future__ import annotations

from tradeledger.settings import Settings

__all__ = ["Settings"]
