"""DynamoDB limits the capacity model imports from the product code.

The consumer no longer writes in transactions (``consumer.writes``); ``capacity_plan.model``
still sizes transactions with this limit until the capacity model follows the new design.
"""

MAX_TRANSACTION_ACTIONS = 100
"""TransactWriteItems takes at most 100 actions."""
