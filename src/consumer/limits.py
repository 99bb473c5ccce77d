"""DynamoDB limits the consumer's writes are planned around (the capacity model imports them)."""

MAX_TRANSACTION_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4_000_000
"""TransactWriteItems takes at most 100 actions and 4 MB of items."""
