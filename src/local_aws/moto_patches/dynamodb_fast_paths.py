"""DynamoDB: the same answers as moto 5.2.5, for a fraction of the server CPU on the write path.

The emulator's DynamoDB cost about 1.4 ms of server CPU per tweet written through a
`TransactWriteItems` of 95 conditional `Put`s and 5 `ADD` `Update`s. Almost none of it was the
writing itself; moto repeats work that depends only on the request text:

* `Item.__init__` stores attributes through `LimitedSizeDict.__setitem__`, which re-measures the
  whole item on every attribute it adds (O(n²) in the attribute count, each measure walking
  lists and maps). Here the size is summed once, attribute by attribute, and the item is rejected
  at the same attribute and with the same `ItemSizeTooLarge` as before: sizes are non-negative,
  so the running total crosses moto's limit exactly where moto's re-measured total would.
* `ConditionExpressionParser.parse` lexes and parses the condition from scratch three times per
  transactional `Put` (the handler's validation, the transaction's check, `Table.put_item`'s
  re-check). The parsed operator tree depends only on the expression, the attribute names and
  the attribute values, and evaluating it never changes it, so it is cached under all three
  (names and values by their exact JSON text, so a different value is a different entry).
* `UpdateExpressionParser.make` tokenises and parses each update expression twice. Its tree
  depends only on the string, and moto's `Validator` works on a deep copy of it, so the tree is
  cached by the string.

Anything a cache cannot key exactly (binary values, which JSON cannot spell) and anything that
fails to parse goes through moto's own code every time, so errors keep their codes and messages.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

LOGGER = logging.getLogger(__name__)

ITEM_SIZE_LIMIT = 405000
"""moto's limit in `LimitedSizeDict.__setitem__` (AWS documents 400 KB; moto measured ~409 KB)."""

CACHE_ENTRIES = 1024
"""Distinct expressions kept; a batch uses a handful, so a full cache is simply emptied."""

_original_condition_parse = ConditionExpressionParser.parse
_original_update_make = UpdateExpressionParser.make.__func__
_condition_cache: dict[tuple[str, str, str], tuple[Any, tuple[str, ...], tuple[str, ...]]] = {}
_update_cache: dict[str, Any] = {}
_patched = False


def item_init(
    self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]
) -> None:
    """`Item.__init__` with each attribute measured once instead of once per later attribute."""
    self.hash_key = hash_key
    self.range_key = range_key
    stored = LimitedSizeDict()
    total = 0
    for key, value in attrs.items():
        typed = DynamoType(value)
        total += bytesize(key) + typed.size()
        if total > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(stored, key, typed)
    self.attrs = stored


def _json_key(value: Any) -> str | None:
    """Exact text for names or values; None when JSON cannot spell them (binary values)."""
    if value is None:
        return ""
    try:
        return json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def condition_parse(self: ConditionExpressionParser) -> Any:
    """moto's parse, remembered per (expression, names, values); the tree is only ever read."""
    expression = self.condition_expression
    if not expression or type(expression) is not str:
        return _original_condition_parse(self)
    names = _json_key(self.expression_attribute_names)
    values = _json_key(self.expression_attribute_values)
    if names is None or values is None:
        return _original_condition_parse(self)
    key = (expression, names, values)
    cached = _condition_cache.get(key)
    if cached is None:
        names_before = len(self.expr_attr_names_found)
        values_before = len(self.expr_attr_values_found)
        request_names = self.expression_attribute_names
        request_values = self.expression_attribute_values
        # The tree keeps references into the values it was built from: build it from a private
        # copy, so that it cannot change if moto ever changes a request's values afterwards.
        self.expression_attribute_names = copy.deepcopy(request_names)
        self.expression_attribute_values = copy.deepcopy(request_values)
        try:
            operation = _original_condition_parse(self)
        finally:
            self.expression_attribute_names = request_names
            self.expression_attribute_values = request_values
        if len(_condition_cache) >= CACHE_ENTRIES:
            _condition_cache.clear()
        cached = (
            operation,
            tuple(self.expr_attr_names_found[names_before:]),
            tuple(self.expr_attr_values_found[values_before:]),
        )
        _condition_cache[key] = cached
        return operation
    operation, names_found, values_found = cached
    self.expr_attr_names_found.extend(names_found)
    self.expr_attr_values_found.extend(values_found)
    return operation


def update_make(cls: type[Any], expression_str: Any) -> Any:
    """moto's update-expression parse, remembered per string; `Validator` deep-copies the tree."""
    if cls is not UpdateExpressionParser or type(expression_str) is not str:
        return _original_update_make(cls, expression_str)
    tree = _update_cache.get(expression_str)
    if tree is None:
        tree = _original_update_make(cls, expression_str)
        if len(_update_cache) >= CACHE_ENTRIES:
            _update_cache.clear()
        _update_cache[expression_str] = tree
    return tree


def apply() -> None:
    """Install the fast paths once."""
    global _patched  # noqa: PLW0603 - the patch is process-wide by nature
    if _patched:
        return
    Item.__init__ = item_init  # type: ignore[method-assign]
    ConditionExpressionParser.parse = condition_parse  # type: ignore[method-assign]
    UpdateExpressionParser.make = classmethod(update_make)
    _patched = True
