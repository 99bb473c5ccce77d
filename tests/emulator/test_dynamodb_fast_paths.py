"""The DynamoDB fast paths change what the emulator costs, never what a client sees.

Each scenario runs the same requests against the patched emulator and plain moto 5.2.5 and
compares every answer; the scenarios also assert the answers AWS gives, so a fast path that
broke both the same way would still fail. The request-parser fast path is also compared with
moto's own parser directly, body by body, including the bodies it must hand back to moto.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core.parse import JSONParser
from moto.core.utils import get_service_model
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from tests.emulator.support import Aws
from tests.event_table import create_event_table

from local_aws.moto_patches import dynamodb_fast_paths
from local_aws.moto_server import EmulatorHandle

pytestmark = pytest.mark.emulator

MOTO_ITEM_LIMIT = dynamodb_fast_paths.ITEM_SIZE_LIMIT

Outcome = dict[str, Any]
Scenario = Callable[[Any, str], list[Outcome]]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def tweet_item(number: int, topic: str = "python") -> dict[str, Any]:
    """A tweet item shaped like the consumer's: strings, numbers, lists, a BOOL and a NULL."""
    return {
        "pk": {"S": f"TOPIC#{topic}"},
        "sk": {"S": f"TWEET#2024-05-01T12:00:{number % 60:02d}Z#{1000 + number}"},
        "tweet_id": {"S": str(1000 + number)},
        "topic": {"S": topic},
        "topic_kind": {"S": "hashtag"},
        "text": {"S": f'tweet {number} about {topic}: ünïcödé ✓ and "quotes"'},
        "created_at": {"S": "2024-05-01T12:00:00Z"},
        "fetched_at": {"S": "2024-05-01T12:01:00Z"},
        "hashtags": {"L": [{"S": "python"}, {"S": f"tag{number}"}]},
        "sentiment": {"S": "positive"},
        "expires_at": {"N": "1717243200"},
        "author_username": {"S": f"user{number}"},
        "like_count": {"N": str(number * 3)},
        "retweet_count": {"N": "0"},
        "score": {"N": "-1.250"},
        "quoted": {"BOOL": number % 2 == 0},
        "place": {"NULL": True},
        "meta": {"M": {"source": {"S": "web"}, "ranks": {"NS": ["1", "2.5"]}}},
        "langs": {"SS": ["en", "de"]},
    }


def key_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"pk": item["pk"], "sk": item["sk"]}


def conditional_put(table: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
    }


def counter_update(table: str, minute: str, amounts: list[int], expires: int) -> dict[str, Any]:
    names = ["tweet_count", "positive", "negative"]
    return {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": "TOPIC#python"}, "sk": {"S": f"MINUTE#{minute}"}},
            "UpdateExpression": "ADD #c0 :c0, #c1 :c1, #c2 :c2 SET expires_at = :expires",
            "ExpressionAttributeNames": {f"#c{i}": name for i, name in enumerate(names)},
            "ExpressionAttributeValues": {
                **{f":c{i}": {"N": str(amount)} for i, amount in enumerate(amounts)},
                ":expires": {"N": str(expires)},
            },
        }
    }


def outcome(call: Callable[[], dict[str, Any]]) -> Outcome:
    """What the client saw: the response without its metadata, or the error and its reasons."""
    try:
        response = call()
    except ClientError as error:
        seen = dict(error.response)
        return {
            "error": seen["Error"],
            "reasons": seen.get("CancellationReasons"),
            "status": seen["ResponseMetadata"]["HTTPStatusCode"],
        }
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def everything(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items = dynamodb.scan(TableName=table)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def run_on_both(emulator: EmulatorHandle, vanilla_moto: str, scenario: Scenario) -> list[Outcome]:
    """Run `scenario` on the patched emulator and on plain moto; they must answer alike."""
    results = []
    table = unique("fast")  # the same name on both: it shows in some answers
    for endpoint in (emulator.endpoint, vanilla_moto):
        dynamodb = Aws(endpoint).client("dynamodb")
        create_event_table(dynamodb, table)
        results.append(scenario(dynamodb, table))
    patched, vanilla = results
    assert patched == vanilla
    return patched


# --- Transactions ---------------------------------------------------------------------------


def test_conditional_puts_and_counter_updates_commit_as_plain_moto_does(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    items = [tweet_item(n) for n in range(60)]

    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        first = [conditional_put(table, item) for item in items[:50]]
        first += [counter_update(table, "12:00", [50, 30, 20], 1717243200)]
        second = [conditional_put(table, item) for item in items[50:]]
        second += [counter_update(table, "12:00", [10, 4, 0], 1717246800)]
        return [
            outcome(lambda: dynamodb.transact_write_items(TransactItems=first)),
            outcome(lambda: dynamodb.transact_write_items(TransactItems=second)),
            {"items": everything(dynamodb, table)},
        ]

    _, _, stored = run_on_both(emulator, vanilla_moto, scenario)
    by_sort_key = {item["sk"]["S"]: item for item in stored["items"]}
    for item in items:
        assert by_sort_key[item["sk"]["S"]] == item  # read back exactly as written
    assert by_sort_key["MINUTE#12:00"] == {
        "pk": {"S": "TOPIC#python"},
        "sk": {"S": "MINUTE#12:00"},
        "tweet_count": {"N": "60"},
        "positive": {"N": "34"},
        "negative": {"N": "20"},
        "expires_at": {"N": "1717246800"},
    }


def test_duplicate_cancels_the_transaction_at_its_index_and_writes_nothing(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    items = [tweet_item(n) for n in range(30)]

    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        dynamodb.put_item(TableName=table, Item=items[17])
        actions = [conditional_put(table, item) for item in items]
        actions.append(counter_update(table, "12:00", [30, 30, 0], 1717243200))
        cancelled = outcome(lambda: dynamodb.transact_write_items(TransactItems=actions))
        retried = [action for index, action in enumerate(actions) if index != 17]
        after_cancel = {"items": everything(dynamodb, table)}
        return [
            cancelled,
            after_cancel,
            outcome(lambda: dynamodb.transact_write_items(TransactItems=retried)),
        ]

    cancelled, after_cancel, retried = run_on_both(emulator, vanilla_moto, scenario)
    assert cancelled["error"]["Code"] == "TransactionCanceledException"
    codes = [reason["Code"] for reason in cancelled["reasons"]]
    assert codes == ["None"] * 17 + ["ConditionalCheckFailed"] + ["None"] * 13
    assert cancelled["reasons"][17]["Message"] == "The conditional request failed"
    assert after_cancel["items"] == [items[17]]
    assert "error" not in retried


def test_same_condition_text_is_evaluated_with_each_requests_names_and_values(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    """One expression string, three bindings: a cache keyed on the text alone would leak."""
    base = {"pk": {"S": "TOPIC#x"}, "sk": {"S": "ITEM#1"}, "a": {"N": "1"}, "b": {"N": "2"}}

    def guarded(table: str, names: dict[str, str], values: dict[str, Any]) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": table,
                "Key": {"pk": base["pk"], "sk": base["sk"]},
                "UpdateExpression": "ADD hits :one",
                "ConditionExpression": "#f = :v",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {":v": values, ":one": {"N": "1"}},
            }
        }

    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        dynamodb.put_item(TableName=table, Item=base)
        results = []
        for names, value in [
            ({"#f": "a"}, {"N": "1"}),  # a = 1: holds
            ({"#f": "b"}, {"N": "1"}),  # b = 1: fails, same text and values, other name
            ({"#f": "a"}, {"N": "2"}),  # a = 2: fails, same text and name, other value
            ({"#f": "b"}, {"N": "2"}),  # b = 2: holds
        ]:
            action = guarded(table, names, value)
            results.append(
                outcome(lambda action=action: dynamodb.transact_write_items(TransactItems=[action]))
            )
            results.append(
                outcome(
                    lambda names=names, value=value: dynamodb.put_item(
                        TableName=table,
                        Item={**base, "hits": {"N": "0"}},
                        ConditionExpression="#f = :v",
                        ExpressionAttributeNames=names,
                        ExpressionAttributeValues={":v": value},
                    )
                )
            )
            dynamodb.put_item(TableName=table, Item=base)
        return results

    results = run_on_both(emulator, vanilla_moto, scenario)
    failed = [
        "error" in result
        and result["error"]["Code"]
        in {"TransactionCanceledException", "ConditionalCheckFailedException"}
        for result in results
    ]
    assert failed == [False, False, True, True, True, True, False, False]


def test_counters_add_up_over_many_transactions_on_one_item(patched: Aws) -> None:
    dynamodb = patched.client("dynamodb")
    table = unique("fast")
    create_event_table(dynamodb, table)
    for round_number in range(1, 21):
        dynamodb.transact_write_items(
            TransactItems=[counter_update(table, "12:00", [round_number, 1, 0], round_number)]
        )
    item = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "TOPIC#python"}, "sk": {"S": "MINUTE#12:00"}}
    )["Item"]
    assert item["tweet_count"] == {"N": str(sum(range(1, 21)))}
    assert item["positive"] == {"N": "20"}
    assert item["negative"] == {"N": "0"}
    assert item["expires_at"] == {"N": "20"}


# --- Item size ------------------------------------------------------------------------------


def sized_item(total: int) -> dict[str, Any]:
    """An item whose size, as moto measures it (names plus UTF-8 values), is `total` bytes."""
    item = {"pk": {"S": "TOPIC#big"}, "sk": {"S": "ITEM#1"}, "tags": {"L": [{"S": "abc"}]}}
    used = sum(len(name) for name in item) + len("TOPIC#big") + len("ITEM#1") + len("abc")
    item["body"] = {"S": "x" * (total - used - len("body"))}
    return item


def test_item_size_limit_is_enforced_at_the_same_byte(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        return [
            outcome(lambda: dynamodb.put_item(TableName=table, Item=sized_item(MOTO_ITEM_LIMIT))),
            outcome(
                lambda: dynamodb.put_item(TableName=table, Item=sized_item(MOTO_ITEM_LIMIT + 1))
            ),
            outcome(
                lambda: dynamodb.batch_write_item(
                    RequestItems={table: [{"PutRequest": {"Item": sized_item(500_000)}}]}
                )
            ),
            outcome(
                lambda: dynamodb.transact_write_items(
                    TransactItems=[conditional_put(table, sized_item(500_000))]
                )
            ),
        ]

    at_limit, over_limit, batch, transaction = run_on_both(emulator, vanilla_moto, scenario)
    assert at_limit == {}
    message = "Item size has exceeded the maximum allowed size"
    assert over_limit["error"] == {"Code": "ValidationException", "Message": message}
    assert batch["error"] == {"Code": "ValidationException", "Message": message}
    assert transaction["error"]["Code"] == "TransactionCanceledException"


# --- BatchWriteItem and validation ----------------------------------------------------------


def test_batch_writes_read_back_exactly(emulator: EmulatorHandle, vanilla_moto: str) -> None:
    items = [tweet_item(n, topic="batch") for n in range(25)]
    overwrite = {**items[3], "sentiment": {"S": "negative"}}

    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        requests = [{"PutRequest": {"Item": item}} for item in items]
        return [
            outcome(lambda: dynamodb.batch_write_item(RequestItems={table: requests})),
            outcome(
                lambda: dynamodb.batch_write_item(
                    RequestItems={table: [{"PutRequest": {"Item": overwrite}}]}
                )
            ),
            outcome(lambda: dynamodb.get_item(TableName=table, Key=key_of(items[3]))),
            {"items": everything(dynamodb, table)},
        ]

    written, _, got, stored = run_on_both(emulator, vanilla_moto, scenario)
    assert written["UnprocessedItems"] == {}
    assert got["Item"] == overwrite
    assert stored["items"] == sorted(
        [overwrite, *items[:3], *items[4:]], key=lambda item: item["sk"]["S"]
    )


def test_validation_errors_keep_their_codes_and_messages(
    emulator: EmulatorHandle, vanilla_moto: str
) -> None:
    keyless = {"pk": {"S": "TOPIC#x"}, "text": {"S": "no sort key"}}
    item = tweet_item(1)

    def scenario(dynamodb: Any, table: str) -> list[Outcome]:
        def put(**extra: Any) -> Outcome:
            return outcome(
                lambda: dynamodb.transact_write_items(
                    TransactItems=[{"Put": {"TableName": table, "Item": item, **extra}}]
                )
            )

        return [
            outcome(
                lambda: dynamodb.batch_write_item(
                    RequestItems={table: [{"PutRequest": {"Item": keyless}}]}
                )
            ),
            outcome(lambda: dynamodb.put_item(TableName=table, Item=keyless)),
            put(ConditionExpression="attribute_not_exists(#missing)"),
            put(
                ConditionExpression="attribute_not_exists(pk)",
                ExpressionAttributeNames={"#unused": "x"},
            ),
            put(ConditionExpression="attribute_not_exists(size)"),
            outcome(
                lambda: dynamodb.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": table,
                                "Key": key_of(item),
                                "UpdateExpression": "ADD #c :c",
                                "ExpressionAttributeNames": {"#c": "count"},
                                "ExpressionAttributeValues": {},
                            }
                        }
                    ]
                )
            ),
            outcome(
                lambda: dynamodb.transact_write_items(
                    TransactItems=[conditional_put(table, item), conditional_put(table, item)]
                )
            ),
        ]

    results = run_on_both(emulator, vanilla_moto, scenario)
    assert all("error" in result for result in results)
    assert results[0]["error"] == {
        "Code": "ValidationException",
        "Message": "One or more parameter values were invalid: Missing the key sk in the item",
    }
    assert results[3]["error"]["Message"] == (
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"
    )


# --- The request parser ---------------------------------------------------------------------


def moto_parse(action: str, body: bytes) -> Any:
    operation = get_service_model("dynamodb").operation_model(action)
    return JSONParser(operation).parse(
        {
            "method": "POST",
            "values": {},
            "headers": {},
            "body": body,
            "url_path": "/",
            "url_params": {},
        }
    )


PLAIN_BODIES: list[tuple[str, dict[str, Any]]] = [
    (
        "TransactWriteItems",
        {
            "TransactItems": [
                {
                    "Put": {
                        "Item": tweet_item(1),
                        "TableName": "t",
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                counter_update("t", "12:00", [1, 2, 3], 5),
                {"Delete": {"TableName": "t", "Key": key_of(tweet_item(2))}},
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": key_of(tweet_item(3)),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ],
            "ReturnConsumedCapacity": "TOTAL",
            "ClientRequestToken": "token",
        },
    ),
    (
        "BatchWriteItem",
        {
            "RequestItems": {
                "t": [{"PutRequest": {"Item": tweet_item(n)}} for n in range(3)]
                + [{"DeleteRequest": {"Key": key_of(tweet_item(9))}}]
            }
        },
    ),
    ("PutItem", {"TableName": "t", "Item": tweet_item(4), "ReturnValues": "ALL_OLD"}),
    (
        "UpdateItem",
        {
            "TableName": "t",
            "Key": key_of(tweet_item(5)),
            "UpdateExpression": "SET a = :a",
            "ExpressionAttributeValues": {":a": {"L": [{"M": {"x": {"NULL": True}}}]}},
            "ReturnValues": "UPDATED_NEW",
        },
    ),
    ("DeleteItem", {"TableName": "t", "Key": key_of(tweet_item(6))}),
]


@pytest.mark.parametrize(("action", "body"), PLAIN_BODIES, ids=[a for a, _ in PLAIN_BODIES])
def test_fast_parse_matches_moto_and_is_taken_for_sdk_bodies(
    action: str, body: dict[str, Any]
) -> None:
    raw = json.dumps(body).encode()
    fast = dynamodb_fast_paths.fast_parse(action, raw)
    assert fast is not None
    assert fast == moto_parse(action, raw)
    assert list(fast) == list(moto_parse(action, raw))  # members in the model's order


ODD_BODIES: list[tuple[str, Any]] = [
    ("PutItem", {"TableName": "t", "Item": {"pk": {"B": "AAEC"}, "sk": {"S": "x"}}}),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": "a", "N": "1"}}}),  # two type keys
    ("PutItem", {"TableName": "t", "Item": {"pk": {"S": None}, "l": {"L": [None]}}}),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"SS": "abc"}}}),  # a string, not a list
    ("PutItem", {"Item": {"pk": {"S": "a"}}, "TableName": "t", "Unknown": 1, "Expected": None}),
    ("PutItem", {"TableName": "t", "Item": {"m": {"M": {"k": {"BS": ["AAEC"]}}}}}),
    ("PutItem", {"TableName": "t", "Item": {"pk": {"X": "a"}, "q": {}}}),
    ("TransactWriteItems", {"TransactItems": [{"Put": None, "Update": {"Key": {}}}]}),
    ("BatchWriteItem", {"RequestItems": {"t": [None, {"PutRequest": {"Item": None}}]}}),
    ("UpdateItem", {"TableName": 5, "Key": {"pk": {"N": 1}}, "ReturnValues": ["x"]}),
]


@pytest.mark.parametrize(("action", "body"), ODD_BODIES)
def test_fast_parse_of_odd_bodies_matches_moto_or_leaves_them_to_it(action: str, body: Any) -> None:
    raw = json.dumps(body).encode()
    fast = dynamodb_fast_paths.fast_parse(action, raw)
    if fast is not None:
        assert fast == moto_parse(action, raw)
        assert list(fast) == list(moto_parse(action, raw))


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[1, 2]", b'"text"', "\ufeff{}".encode(), b"\xff\xfe"]
)
def test_bodies_that_are_not_a_json_object_are_left_to_moto(raw: bytes) -> None:
    assert dynamodb_fast_paths.fast_parse("PutItem", raw) is None


def test_binary_values_still_reach_moto_decoded(patched: Aws) -> None:
    dynamodb = patched.client("dynamodb")
    table = unique("fast")
    create_event_table(dynamodb, table)
    item = {"pk": {"S": "TOPIC#b"}, "sk": {"S": "ITEM#1"}, "blob": {"B": b"\x00\x01\xff"}}
    dynamodb.transact_write_items(TransactItems=[conditional_put(table, item)])
    assert dynamodb.get_item(TableName=table, Key=key_of(item))["Item"] == item


# --- The update-expression tree copy --------------------------------------------------------


def tree_shape(node: Any, path: tuple[int, ...] = ()) -> Any:
    """Everything about a tree: classes, attributes, and where each parent link points."""
    if isinstance(node, list):
        return [tree_shape(child, (*path, index)) for index, child in enumerate(node)]
    if not hasattr(node, "__dict__"):
        return node
    return (
        type(node).__name__,
        {
            name: (type(value).__name__ if name == "parent" else tree_shape(value, path))
            for name, value in vars(node).items()
        },
    )


@pytest.mark.parametrize(
    "expression",
    [
        "ADD #c0 :c0, #c1 :c1 SET expires_at = :expires",
        "SET a.b[1] = list_append(:x, if_not_exists(c, :y)), d = d + :one REMOVE e[2], f",
        "DELETE tags :gone",
    ],
)
def test_tree_copy_equals_deepcopy_and_shares_nothing(expression: str) -> None:
    tree = UpdateExpressionParser.make(expression)
    copied = dynamodb_fast_paths.tree_deepcopy(tree)
    assert tree_shape(copied) == tree_shape(copy.deepcopy(tree))

    def walk(original: Any, duplicate: Any, parent: Any) -> None:
        assert duplicate is not original
        assert duplicate.parent is parent
        assert original.children is None or duplicate.children is not original.children
        for old, new in zip(original.children or [], duplicate.children or [], strict=True):
            if hasattr(old, "children"):
                walk(old, new, duplicate)

    walk(tree, copied, None)
