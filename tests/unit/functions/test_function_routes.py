"""Routing: entity from single-table keys, the registry's order, logs-only routes."""

from __future__ import annotations

from typing import Any

import pytest
import routes
from function_helpers import stream_record
from metrics import new_counts
from records import Change
from routes import ANY, Invocation, Router, entity_of


@pytest.mark.parametrize(
    ("pk", "sk", "entity"),
    [
        ("USER#1", "PROFILE", "user"),
        ("PRODUCT#9", "META", "product"),
        ("USER#1", "ORDER#7", "order"),  # orders live under their user
        ("LAMBDA#test-processing", "EVENT#001", "other"),
        ("", "", "other"),
        ("user#1", "", "other"),  # prefixes are case-sensitive, like the keys
    ],
)
def test_entity_of(pk: str, sk: str, entity: str) -> None:
    assert entity_of(pk, sk) == entity


def recorder(calls: list[str], tag: str) -> Any:
    return lambda change, inv: calls.append(tag)


def _inv(verbose: bool = True) -> Invocation:
    return Invocation(verbose=verbose, counts=new_counts())


def test_routes_run_from_general_to_specific_in_registration_order() -> None:
    router = Router()
    calls: list[str] = []
    for entity, event, tag in [
        ("user", "INSERT", "user-insert"),
        (ANY, ANY, "any-any"),
        ("user", ANY, "user-any"),
        (ANY, "INSERT", "any-insert"),
        ("user", "INSERT", "user-insert-2"),
        ("product", "INSERT", "product-insert"),
        (ANY, "REMOVE", "any-remove"),
    ]:
        router.add(entity, event, recorder(calls, tag))
    change = Change(stream_record("INSERT", keys={"PK": {"S": "USER#1"}}))
    router.dispatch(change, _inv())
    assert calls == ["any-any", "any-insert", "user-any", "user-insert", "user-insert-2"]


def test_adding_a_route_after_dispatch_takes_effect() -> None:
    router = Router()
    seen: list[str] = []
    change = Change(stream_record("INSERT", keys={"PK": {"S": "USER#1"}}))
    router.dispatch(change, _inv())
    router.on("user", "INSERT")(lambda c, i: seen.append(c.pk))
    router.dispatch(change, _inv())
    assert seen == ["USER#1"]


def test_logs_only_routes_are_skipped_when_not_verbose() -> None:
    router = Router()
    calls: list[str] = []
    router.add(ANY, ANY, lambda c, i: calls.append("log"), logs_only=True)
    router.add(ANY, ANY, lambda c, i: calls.append("work"))
    change = Change(stream_record())
    router.dispatch(change, _inv(verbose=False))
    assert calls == ["work"]
    router.dispatch(change, _inv(verbose=True))
    assert calls == ["work", "log", "work"]


def test_custom_classifier_and_entities() -> None:
    router = Router(classify=lambda pk, sk: pk.split("#", 1)[0].lower())
    seen: list[str] = []
    router.on("invoice", "MODIFY")(lambda c, i: seen.append(c.sk))
    router.dispatch(
        Change(stream_record("MODIFY", keys={"PK": {"S": "INVOICE#1"}, "SK": {"S": "V2"}})), _inv()
    )
    assert seen == ["V2"]


def test_registration_is_validated() -> None:
    router = Router()
    with pytest.raises(ValueError, match="unknown event name"):
        router.add(ANY, "UPDATE", lambda c, i: None)
    with pytest.raises(TypeError):
        router.add(ANY, ANY, "not callable")  # type: ignore[arg-type]


def test_copy_is_independent() -> None:
    clone = routes.ROUTER.copy()
    clone.add(ANY, ANY, lambda c, i: None)
    assert (
        len(clone.routes_for("user", "INSERT"))
        == len(routes.ROUTER.routes_for("user", "INSERT")) + 1
    )


def test_default_router_holds_the_seed_routes() -> None:
    names = {
        (entity, event): [r.__name__ for r in routes.ROUTER.routes_for(entity, event)]
        for entity in ("user", "product", "order", "other")
        for event in ("INSERT", "MODIFY", "REMOVE")
    }
    assert names[("user", "INSERT")] == ["log_item", "log_insert", "new_user"]
    assert names[("order", "INSERT")] == ["log_item", "log_insert", "new_order"]
    assert names[("other", "MODIFY")] == ["log_item", "detect_modifications"]
    assert names[("product", "REMOVE")] == ["log_item", "log_remove", "product_deleted"]
    assert names[("order", "REMOVE")] == ["log_item", "log_remove"]
    quiet = [r.__name__ for r in routes.ROUTER.routes_for("user", "MODIFY", verbose=False)]
    assert quiet == ["detect_modifications"]


def test_a_route_sees_the_invocation(run_batch: Any) -> None:
    router = routes.seed_router()
    contexts: list[Any] = []
    router.on("order", "INSERT")(lambda c, inv: contexts.append((inv.verbose, inv.counts)))
    keys = {"PK": {"S": "USER#1"}, "SK": {"S": "ORDER#1"}}
    run = run_batch({"Records": [stream_record("INSERT", keys=keys)]}, router=router)
    assert contexts and contexts[0][0] is True
    assert "New order created - could trigger fulfillment" in run.lines


def test_classify_runs_only_for_events_with_an_entity_specific_route(run_batch: Any) -> None:
    """At WARN the seed routes need no entity; classifying every record was wasted work."""
    classified: list[str] = []

    def classify(pk: str, sk: str) -> str:
        classified.append(pk)
        return entity_of(pk, sk)

    router = Router(classify=classify)
    router.add(ANY, "MODIFY", lambda c, i: None)
    router.add("user", "INSERT", lambda c, i: None, logs_only=True)
    keys = {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}}
    event = {
        "Records": [
            stream_record(name, keys=keys, seq=str(n))
            for n, name in enumerate(["INSERT", "MODIFY", "REMOVE"])
        ]
    }
    run_batch(event, router=router, level="WARNING")
    assert classified == []
    run_batch(event, router=router, level="INFO")
    assert classified == ["USER#1"]  # the INSERT: its logs-only user route applies at INFO


def test_shared_plans_follow_the_level_and_new_routes() -> None:
    router = routes.seed_router()
    assert router.shared_plans(False) == {
        "INSERT": (),
        "MODIFY": (routes.detect_modifications,),
        "REMOVE": (),
    }
    assert router.shared_plans(True) == {
        "INSERT": None,
        "MODIFY": (routes.log_item, routes.detect_modifications),
        "REMOVE": None,
    }
    router.add("order", ANY, lambda c, i: None)
    assert router.shared_plans(False) == {"INSERT": None, "MODIFY": None, "REMOVE": None}


def test_dispatch_writes_the_changes_lines_as_one_entry(caplog: pytest.LogCaptureFixture) -> None:
    change = Change(stream_record("INSERT", keys={"PK": {"S": "USER#1"}, "SK": {"S": "P"}}))
    with caplog.at_level("INFO", logger="stream_processor"):
        routes.ROUTER.dispatch(change, _inv())
    assert [r.getMessage() for r in caplog.records] == [
        "Processing INSERT for item: USER#1#P\n"
        "Processing INSERT event\n"
        "New user created - could send welcome email"
    ]
