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
  cached by the string. That copy, `copy.deepcopy` of a tree of plain objects through
  `__reduce_ex__`, cost more than the update itself; the tree's nodes are copied here the way
  `deepcopy` copies them (new instance, each attribute deep-copied, shared references kept
  shared) without the generic protocol; anything that is not a plain node goes to `deepcopy`.

* `DynamoHandler` sets `automated_parameter_parsing`, so every request body is decoded and then
  rebuilt node by node by moto's generic `JSONParser`, which looks up a handler by name for each
  of the thousands of attribute values in a batch. For the write actions the same rebuild is
  done here by converters compiled once from the same botocore shapes, and an `AttributeValue`
  that the generic parser would copy unchanged (one type key; strings, numbers, booleans, lists
  and maps of such) is kept as decoded instead of being copied. Bodies needing a conversion the
  converters do not make (binary values, timestamps) or of an unexpected form go to moto's parser.

* `DynamoDBBackend.update_item` runs ten `Validator` passes over a copy of the update tree (every
  update twice when the item is new: once against an empty stand-in item) and then
  `UpdateExpressionExecutor`, whose every `SET` re-measures the whole item through
  `LimitedSizeDict`. The consumer's per-minute stats update (`ADD #c0 :c0, ... SET expires_at =
  :expires`, 5 per transaction) is applied here directly when it is of exactly that kind: moto's
  own (cached) parse must consist only of one ADD and/or one SET clause whose actions name one
  top-level attribute (a `#placeholder`, or a plain name that is not a reserved word) and take
  one `:placeholder`; no condition, `Expected` or `AttributeUpdates`; the key names exactly the
  table's S/N key attributes; every placeholder defined and every definition used; no attribute
  twice and none that is a table or index key or has an attribute definition; ADD values numbers
  added to an absent or numeric attribute with `DynamoType.__add__` (so the text is moto's), SET
  values S, N, BOOL or NULL. Everything that moto could reject, and every update that moto would
  leave half-applied (a non-numeric ADD target, a number `int()` cannot read, an item that could
  reach the size limit while being updated), is recognised before anything changes and left to
  moto. A missing item is created as moto creates it (`Table.put_item` with just the key, which
  also makes its stream record), and the update's stream record is added as moto adds it. The
  transaction patch in `dynamodb.py` is unaffected: moto's `transact_write_items` still calls
  `update_item`. Measured with a `TransactWriteItems` of 95 conditional marker puts and 5 such
  updates (40 calls, three runs each): 28.5-32.3 ms of emulator CPU per call before, 15.5-16.3 ms
  after; with 95 full tweet puts instead of markers, 53.6 ms before and 38.8 ms after.

Anything a cache cannot key exactly (binary values, which JSON cannot spell) and anything that
fails to parse goes through moto's own code every time, so errors keep their codes and messages.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from typing import Any

from moto.core.responses import BaseResponse
from moto.core.utils import get_service_model
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]
    ExpressionAttribute,
    ExpressionAttributeName,
    ExpressionAttributeValue,
    Node,
    UpdateExpression,
    UpdateExpressionAddAction,
    UpdateExpressionAddActions,
    UpdateExpressionAddClause,
    UpdateExpressionPath,
    UpdateExpressionSetAction,
    UpdateExpressionSetActions,
    UpdateExpressionSetClause,
    UpdateExpressionValue,
)
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords
from moto.dynamodb.responses import DynamoHandler

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

FAST_PARSED_ACTIONS = frozenset(
    {"BatchWriteItem", "DeleteItem", "PutItem", "TransactWriteItems", "UpdateItem"}
)
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
"""What AWS SDKs send to DynamoDB; moto's protocol detection maps it to the `json` parser."""

Converter = Callable[[Any], Any]
_original_parse_parameters = BaseResponse.parse_parameters
_converters: dict[str, Converter | None] = {}


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


def _is_plain_node_type(kind: type[Any]) -> bool:
    """A Node class `deepcopy` copies through `__reduce_ex__`: no hooks, state in `__dict__`."""
    inherited: Any = object
    return (
        issubclass(kind, Node)
        and getattr(kind, "__deepcopy__", None) is None
        and getattr(kind, "__reduce_ex__", None) is inherited.__reduce_ex__
        and getattr(kind, "__reduce__", None) is inherited.__reduce__
        and getattr(kind, "__new__", None) is inherited.__new__
        and not hasattr(kind, "__setstate__")
        and "__slots__" not in kind.__dict__
    )


_plain_node_types: dict[type[Any], bool] = {}


def _copy_tree(value: Any, memo: dict[int, Any]) -> Any:
    kind = type(value)
    if kind is str or kind is int or value is None:  # atomic for deepcopy too
        return value
    copied = memo.get(id(value))
    if copied is not None:
        return copied
    if kind is list:
        copied = []
        memo[id(value)] = copied
        copied.extend(_copy_tree(member, memo) for member in value)
        return copied
    plain = _plain_node_types.get(kind)
    if plain is None:
        plain = _plain_node_types[kind] = _is_plain_node_type(kind)
    if not plain:
        return copy.deepcopy(value, memo)
    copied = object.__new__(kind)
    memo[id(value)] = copied
    copied.__dict__.update({name: _copy_tree(v, memo) for name, v in value.__dict__.items()})
    return copied


def tree_deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """`copy.deepcopy` for moto's validators, without its generic protocol for AST nodes."""
    if isinstance(value, Node):
        return _copy_tree(value, {} if memo is None else memo)
    return copy.deepcopy(value, memo)


class _Unusual(Exception):
    """The body needs something only moto's generic parser does; let it parse the body."""


def _unusual(_: Any) -> Any:
    raise _Unusual


def _identity(value: Any) -> Any:
    return value


def _integer(value: Any) -> Any:
    return int(value)


def _float(value: Any) -> Any:
    return float(value)


_SCALARS: dict[str, Converter] = {
    "string": _identity,
    "boolean": _identity,
    "integer": _integer,
    "long": _integer,
    "short": _integer,
    "byte": _integer,
    "float": _float,
    "double": _float,
}
"""`BaseJSONParser`'s handling of each scalar type; anything else (blob, timestamp) is unusual."""

_ATTRIBUTE_VALUE_MEMBERS = {
    "S": "string",
    "N": "string",
    "B": "blob",
    "SS": "list",
    "NS": "list",
    "BS": "list",
    "M": "map",
    "L": "list",
    "NULL": "boolean",
    "BOOL": "boolean",
}
_PLAIN_SCALAR_KINDS = frozenset({"S", "N", "NULL", "BOOL"})


def _is_plain_attribute_value(value: Any) -> bool:
    """True when moto's parser would rebuild `value` into an equal copy of itself.

    One type key only (the parser rebuilds structures in model order, which for one key is the
    order they came in), no None where a structure is expected (the parser drops or keeps those
    differently), lists where lists are expected (the parser would iterate anything), no binary.
    """
    if type(value) is not dict or len(value) != 1:
        return False
    ((kind, inner),) = value.items()
    if kind in _PLAIN_SCALAR_KINDS:
        return inner is not None
    if kind == "L":
        return type(inner) is list and all(_is_plain_attribute_value(v) for v in inner)
    if kind == "M":
        return type(inner) is dict and all(_is_plain_attribute_value(v) for v in inner.values())
    if kind in ("SS", "NS"):
        return type(inner) is list
    return False


def _compile(shape: Any, compiled: dict[str, Converter]) -> Converter:
    """A converter doing exactly what `BaseJSONParser._parse_shape` does for `shape`."""
    name = shape.name
    if name in compiled:
        return compiled[name]
    type_name = shape.type_name
    if type_name in _SCALARS:
        return _SCALARS[type_name]
    if type_name == "list":
        return _compile_list(shape, compiled)
    if type_name == "map":
        return _compile_map(shape, compiled)
    if type_name == "structure":
        return _compile_structure(shape, compiled)
    return _unusual


def _compile_list(shape: Any, compiled: dict[str, Converter]) -> Converter:
    def convert_list(value: Any) -> Any:
        if type(value) is not list:  # the parser iterates whatever it gets: strings, dicts
            raise _Unusual
        return [member(item) for item in value]

    compiled[shape.name] = convert_list
    member = _compile(shape.member, compiled)
    return convert_list


def _compile_map(shape: Any, compiled: dict[str, Converter]) -> Converter:
    def convert_map(value: Any) -> Any:
        if type(value) is not dict:
            raise _Unusual
        return {key: converted_value(item) for key, item in value.items()}

    if shape.key.type_name != "string":
        return _unusual
    compiled[shape.name] = convert_map
    converted_value = _compile(shape.value, compiled)
    return convert_map


def _compile_structure(shape: Any, compiled: dict[str, Converter]) -> Converter:
    if shape.is_document_type:
        return _identity
    members: list[tuple[str, str, Converter]] = []

    def convert_structure(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is not dict:
            raise _Unusual
        parsed = {}
        for json_name, member_name, convert in members:
            raw = value.get(json_name)
            if raw is not None:
                parsed[member_name] = convert(raw)
        return parsed

    converter = convert_structure
    if _is_attribute_value_shape(shape):

        def convert_attribute_value(value: Any) -> Any:
            if _is_plain_attribute_value(value):
                return value
            return convert_structure(value)

        converter = convert_attribute_value
    compiled[shape.name] = converter
    for member_name, member_shape in shape.members.items():
        json_name = member_shape.serialization.get("name", member_name)
        members.append((json_name, member_name, _compile(member_shape, compiled)))
    return converter


def _is_attribute_value_shape(shape: Any) -> bool:
    """DynamoDB's `AttributeValue`, with exactly the members `_is_plain_attribute_value` knows."""
    if shape.name != "AttributeValue":
        return False
    members = shape.members
    return (
        {name: member.type_name for name, member in members.items()} == _ATTRIBUTE_VALUE_MEMBERS
        and all(not member.serialization.get("name") for member in members.values())
        and members["M"].value.name == "AttributeValue"
        and members["L"].member.name == "AttributeValue"
        and members["SS"].member.type_name == "string"
        and members["NS"].member.type_name == "string"
    )


def _converter_for(action: str) -> Converter | None:
    if action not in _converters:
        shape = get_service_model("dynamodb").operation_model(action).input_shape
        _converters[action] = None if shape is None else _compile(shape, {})
    return _converters[action]


def fast_parse(action: str, body: bytes) -> dict[str, Any] | None:
    """The parameters moto's `JSONParser` would produce for `body`, or None to let it decide."""
    if action not in FAST_PARSED_ACTIONS or type(body) is not bytes or not body:
        return None
    converter = _converter_for(action)
    if converter is None:
        return None
    try:
        decoded = json.loads(body.decode("utf-8"))
        if type(decoded) is not dict:
            return None
        parsed: dict[str, Any] = converter(decoded)
    except (ValueError, TypeError, RecursionError, _Unusual):  # moto's parser decides these
        return None
    return parsed


def parse_parameters(self: BaseResponse, request: Any) -> None:
    """`BaseResponse.parse_parameters`, through `fast_parse` for DynamoDB's write actions."""
    if request.content_type == JSON_CONTENT_TYPE:
        parsed = fast_parse(self._get_action(), request.data)
        if parsed is not None:
            self.params = parsed
            return
    _original_parse_parameters(self, request)


UpdateAction = tuple[bool, str, bool, str]
"""(is ADD, name token, token is a `#placeholder`, `:value` placeholder): one recognised action."""

_original_update_item = DynamoDBBackend.update_item
_update_plans: dict[str, tuple[UpdateAction, ...] | None] = {}
_SET_SCALARS: dict[str, type[Any]] = {"S": str, "N": str, "BOOL": bool}


class _FallBack(Exception):
    """Something about the update is not the one shape `fast_update` applies: moto applies it."""


def _leaf_text(node: Any, kind: type[Any]) -> str:
    if type(node) is not kind or len(node.children) != 1 or type(node.children[0]) is not str:
        raise _FallBack
    text: str = node.children[0]
    return text


def _path_token(path: Any) -> tuple[str, bool]:
    """The one name of a top-level path, and whether it is a `#placeholder`."""
    if type(path) is not UpdateExpressionPath or len(path.children) != 1:
        raise _FallBack
    (name,) = path.children
    if type(name) is ExpressionAttributeName:
        return _leaf_text(name, ExpressionAttributeName), True
    return _leaf_text(name, ExpressionAttribute), False


def _collect_actions(node: Any, actions: list[UpdateAction], counts: dict[bool, int]) -> None:
    """The actions of `ADD a :x, ...` and `SET b = :y, ...` clauses, in moto's execution order.

    That order is `Node.find_clauses`' depth-first one, which `normalize` keeps for ADD and SET.
    """
    kind = type(node)
    if kind in (UpdateExpression, UpdateExpressionAddActions, UpdateExpressionSetActions):
        for child in node.children:
            _collect_actions(child, actions, counts)
    elif kind is UpdateExpressionAddClause or kind is UpdateExpressionSetClause:
        counts[kind is UpdateExpressionAddClause] += 1
        if len(node.children) != 1:
            raise _FallBack
        _collect_actions(node.children[0], actions, counts)
    elif kind is UpdateExpressionAddAction or kind is UpdateExpressionSetAction:
        if len(node.children) != 2:
            raise _FallBack
        token, placeholder = _path_token(node.children[0])
        operand = node.children[1]
        if kind is UpdateExpressionSetAction:
            if type(operand) is not UpdateExpressionValue or len(operand.children) != 1:
                raise _FallBack
            operand = operand.children[0]
        value = _leaf_text(operand, ExpressionAttributeValue)
        actions.append((kind is UpdateExpressionAddAction, token, placeholder, value))
    else:
        raise _FallBack


def update_plan(expression: Any) -> tuple[UpdateAction, ...] | None:
    """The ADD/SET actions of `expression` when it has the recognised shape, else None.

    The tree is moto's own parse (cached by `update_make`), so syntax and everything the parser
    rejects stay moto's; an expression that does not parse is not remembered and goes to moto.
    """
    if type(expression) is not str:
        return None
    if expression in _update_plans:
        return _update_plans[expression]
    try:
        tree = UpdateExpressionParser.make(expression)
    except Exception:  # noqa: BLE001 - moto's update_item raises it again, as moto does
        return None
    actions: list[UpdateAction] = []
    counts = {True: 0, False: 0}
    plan: tuple[UpdateAction, ...] | None
    try:
        _collect_actions(tree, actions, counts)
        plan = tuple(actions) if actions and max(counts.values()) <= 1 else None
    except _FallBack:
        plan = None
    if len(_update_plans) >= CACHE_ENTRIES:
        _update_plans.clear()
    _update_plans[expression] = plan
    return plan


def _is_set_scalar(value: Any) -> bool:
    if type(value) is not dict or len(value) != 1:
        return False
    ((kind, inner),) = value.items()
    if kind == "NULL":
        return inner is True
    expected = _SET_SCALARS.get(kind)
    return expected is not None and type(inner) is expected


def _is_number_value(value: Any) -> bool:
    return type(value) is dict and value.keys() == {"N"} and type(value["N"]) is str


def _measure(value: Any) -> int:
    """What `LimitedSizeDict.__setitem__` counts for one key or value."""
    return value.size() if type(value) is DynamoType else bytesize(str(value))


def _key_values(table: Any, key: Any) -> tuple[DynamoType, DynamoType | None]:
    """The key as moto builds it, when it names exactly the table's key attributes, typed right."""
    wanted = {table.hash_key_attr: table.hash_key_type}
    if table.range_key_attr is not None:
        wanted[table.range_key_attr] = table.range_key_type
    if type(key) is not dict or key.keys() != wanted.keys():
        raise _FallBack
    for name, kind in wanted.items():
        value = key[name]
        if kind not in ("S", "N") or type(value) is not dict or len(value) != 1:
            raise _FallBack
        if type(value.get(kind)) is not str:
            raise _FallBack
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = None
    if table.range_key_attr is not None:
        range_value = DynamoType(key[table.range_key_attr])
    return hash_value, range_value


def _resolved_actions(
    table: Any, plan: tuple[UpdateAction, ...], names: Any, values: Any
) -> list[tuple[bool, str, dict[str, Any]]]:
    """(is ADD, attribute name, request value) per action, when moto's validators would pass."""
    if names is None:
        names = {}
    if type(names) is not dict or type(values) is not dict:
        raise _FallBack
    # Every placeholder defined and every definition used (moto's handler rejects unused ones).
    if {token for _, token, placeholder, _ in plan if placeholder} != names.keys():
        raise _FallBack
    if {value for _, _, _, value in plan} != values.keys():
        raise _FallBack
    protected = set(table.table_key_attrs) | set(table.attribute_keys)
    protected |= {definition["AttributeName"] for definition in table.attr}
    reserved = ReservedKeywords.get_reserved_keywords()
    resolved = []
    seen: set[str] = set()
    for is_add, token, placeholder, value_name in plan:
        name = names[token] if placeholder else token
        value = values[value_name]
        if (
            type(name) is not str
            or not name
            or name in seen
            or name in protected
            or token in protected
            or (not placeholder and token.upper() in reserved)
            or not (_is_number_value(value) if is_add else _is_set_scalar(value))
        ):
            raise _FallBack
        seen.add(name)
        resolved.append((is_add, name, value))
    return resolved


def _new_values(
    current: dict[str, Any], resolved: list[tuple[bool, str, dict[str, Any]]], size: int
) -> list[tuple[str, DynamoType]]:
    """The values moto's executors would store, if none of its size checks can fail."""
    updates: list[tuple[str, DynamoType]] = []
    for is_add, name, value in resolved:
        new_value = DynamoType(value)
        if is_add:
            existing = current.get(name)
            if existing is None:
                existing = DynamoType({"N": "0"})
            elif type(existing) is not DynamoType or existing.type != "N":
                raise _FallBack  # moto raises, after applying the actions before this one
            try:
                new_value = existing + new_value  # moto's own Decimal/int arithmetic and text
            except Exception as error:  # moto raises it, after its partial update
                raise _FallBack from error
        size += _measure(name) + new_value.size()
        updates.append((name, new_value))
    # Each of moto's per-attribute checks counts at most this many bytes: under the limit none
    # of them raises; over it, moto decides which one does and what the item looks like then.
    if size > ITEM_SIZE_LIMIT:
        raise _FallBack
    return updates


def fast_update(
    backend: DynamoDBBackend,
    table_name: str,
    key: Any,
    update_expression: Any,
    *,
    names: Any,
    values: Any,
) -> Item:
    """Apply a recognised ADD/SET update as moto's executor would, or raise `_FallBack`.

    Nothing is changed before the last reason to hand the request to moto has been ruled out.
    """
    plan = update_plan(update_expression)
    table = backend.tables.get(table_name)
    if plan is None or table is None:
        raise _FallBack
    hash_value, range_value = _key_values(table, key)
    resolved = _resolved_actions(table, plan, names, values)
    item = table.get_item(hash_value, range_value)
    if item is None:
        current: dict[str, Any] = {}
        size = bytesize(table.hash_key_attr) + hash_value.size()
        if range_value is not None and table.range_key_attr is not None:
            size += bytesize(table.range_key_attr) + range_value.size()
    elif type(item.attrs) is LimitedSizeDict:
        current = item.attrs
        size = sum(_measure(name) + _measure(value) for name, value in current.items())
    else:
        raise _FallBack
    updates = _new_values(current, resolved, size)
    orig_item = None
    if item is None:
        data: dict[str, Any] = {table.hash_key_attr: {hash_value.type: hash_value.value}}
        if range_value is not None and table.range_key_attr is not None:
            data[table.range_key_attr] = {range_value.type: range_value.value}
        table.put_item(data)  # how moto creates a missing item (stream record included)
        item = table.get_item(hash_value, range_value)
        if item is None:
            raise AssertionError("moto's put_item stored no item")
    elif table.stream_shard is not None:
        orig_item = copy.deepcopy(item)
    attrs = item.attrs
    for name, new_value in updates:
        dict.__setitem__(attrs, name, new_value)  # sizes checked above, once
    if table.stream_shard is not None:
        table.stream_shard.add(orig_item, item)
    return item


def update_item(  # noqa: PLR0917 - moto's signature, called positionally by moto
    self: DynamoDBBackend,
    table_name: str,
    key: dict[str, dict[str, Any]],
    update_expression: str,
    expression_attribute_names: dict[str, Any],
    expression_attribute_values: dict[str, Any],
    attribute_updates: dict[str, Any] | None = None,
    expected: dict[str, Any] | None = None,
    condition_expression: str | None = None,
    return_values_on_condition_check_failure: str | None = None,
) -> Item:
    """`DynamoDBBackend.update_item`, through `fast_update` for unconditional ADD/SET updates."""
    if not attribute_updates and not expected and condition_expression is None:
        try:
            return fast_update(
                self,
                table_name,
                key,
                update_expression,
                names=expression_attribute_names,
                values=expression_attribute_values,
            )
        except _FallBack:
            pass
    return _original_update_item(
        self,
        table_name,
        key,
        update_expression,
        expression_attribute_names,
        expression_attribute_values,
        attribute_updates=attribute_updates,
        expected=expected,
        condition_expression=condition_expression,
        return_values_on_condition_check_failure=return_values_on_condition_check_failure,
    )


def apply() -> None:
    """Install the fast paths once."""
    global _patched  # noqa: PLW0603 - the patch is process-wide by nature
    if _patched:
        return
    Item.__init__ = item_init  # type: ignore[method-assign]
    ConditionExpressionParser.parse = condition_parse  # type: ignore[method-assign]
    UpdateExpressionParser.make = classmethod(update_make)
    DynamoHandler.parse_parameters = parse_parameters  # type: ignore[method-assign]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
    setattr(validators, "deepcopy", tree_deepcopy)  # noqa: B010 - not re-exported by moto
    _patched = True
