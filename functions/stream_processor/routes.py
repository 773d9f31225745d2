"""Routing: which business functions run for a change, chosen by (entity, event).

Why it exists: this function is what users extend. Business logic plugs in as small
functions registered on a ``Router`` for an entity (from the single-table keys) and an event
name; the batch loop in ``handler`` never changes. The default routes reproduce the seed
tutorial's behaviour and its log lines word for word.

Adding a route (in this module, or in a module imported at the bottom of it)::

    @ROUTER.on("order", "INSERT")
    def start_fulfilment(change, inv):
        order_id = change.sk.removeprefix("ORDER#")
        ...  # raise to retry the batch from this record; raise PoisonRecordError to quarantine

For one change, the routes registered under (ANY, ANY), (ANY, event), (entity, ANY) and
(entity, event) run in that order, each group in registration order. A route receives the
``Change`` and the ``Invocation`` (``inv.verbose``: per-record INFO lines are on, checked
once per invocation; ``inv.note(line, *args)``: a line for the record's one INFO entry;
``inv.counts``: the metric counters; ``inv.log``: the logger, for entries of their own).
"""

from __future__ import annotations

import logging

from metrics import PRICE_CHANGES, STATUS_CHANGES
from records import EVENT_NAMES, INSERT, MODIFY, REMOVE, Change, Image, PoisonRecordError
from settings import LOGGER_NAME

TYPE_CHECKING = False  # typing is not imported at run time: it is cold-start time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Route = Callable[[Change, "Invocation"], Any]

ANY = "*"

USER = "user"
PRODUCT = "product"
ORDER = "order"
OTHER = "other"

log = logging.getLogger(LOGGER_NAME)


class Invocation:
    """What a route may use besides the change: shared for one batch, built per invocation.

    Per-record INFO lines go through ``note``: the batch loop writes each record's noted
    lines as ONE log entry (joined with newlines) after its routes ran. One entry instead of
    one per line, because each entry costs the same whatever its length (a ``LogRecord``,
    Lambda's JSON formatting, a write), and with 2-4 lines per record that cost was most of
    the batch at INFO. ``log`` stays for entries of their own (warnings, errors).
    """

    __slots__ = ("_notes", "context", "counts", "log", "verbose")

    def __init__(
        self,
        *,
        verbose: bool,
        counts: dict[str, int],
        logger: logging.Logger = log,
        context: Any = None,
    ) -> None:
        self.verbose = verbose  # logger enabled for INFO: per-record lines are wanted
        self.counts = counts  # metric name -> count, emitted once as EMF after the batch
        self.log = logger
        self.context = context  # the Lambda context object (None when run locally)
        self._notes: list[str] = []  # the current record's lines, until flush_notes

    def note(self, line: str, *args: object) -> None:
        """Add ``line`` (``line % args`` when args are given, so ``"%%"`` is a literal "%"
        then) to the current record's INFO entry. Dropped when INFO is off."""
        if self.verbose:
            self._notes.append(line % args if args else line)

    def flush_notes(self) -> None:
        """Write the noted lines as one INFO entry on ``log`` and start a new record.

        The record is built with ``makeRecord`` + ``handle``, the documented way to log a
        prepared record: ``Logger.info`` would walk the call stack to find the caller's
        file and line (``findCaller``) for every entry, and Lambda's JSON log format prints
        a location only for entries carrying an exception. The location is fixed to this
        method (its ``def`` line), where the walk would also end. Only these records skip
        the walk: no global ``logging`` switch is touched. Handlers,
        their filters (how Lambda adds the request id) and formatters run as usual; the
        level was checked once per invocation (``verbose``).
        """
        notes = self._notes
        if notes:
            logger = self.log
            logger.handle(
                logger.makeRecord(
                    logger.name,
                    logging.INFO,
                    _NOTES_PATH,
                    _NOTES_LINE,
                    "\n".join(notes),
                    (),  # no arguments: the lines are final text, a "%" in them stays
                    None,
                    _NOTES_FUNCTION,
                )
            )
            notes.clear()


_NOTES_PATH = __file__
_NOTES_LINE = Invocation.flush_notes.__code__.co_firstlineno
_NOTES_FUNCTION = Invocation.flush_notes.__name__


def entity_of(pk: str, sk: str) -> str:
    """The single-table entity an item belongs to, from its keys.

    ``ORDER#`` on SK wins over the PK prefix because orders live under their user
    (``PK=USER#u1, SK=ORDER#o1``): the seed checked ``USER#`` first and so announced a
    "new user" for every order. Then ``USER#`` or ``PRODUCT#`` on PK; anything else is
    ``OTHER`` (served by the ANY routes only).
    """
    if sk.startswith("ORDER#"):
        return ORDER
    if pk.startswith("USER#"):
        return USER
    if pk.startswith("PRODUCT#"):
        return PRODUCT
    return OTHER


class Router:
    """A registry of routes keyed by (entity, event name); ``ANY`` matches all.

    A route registered with ``logs_only=True`` only writes per-record INFO lines: it is not
    called at all when INFO is off (the production level), which keeps the default routes
    free at WARN. ``classify`` is called only for events that have an entity-specific route
    at the current level (``shared_plans``): at WARN the seed routes need no entity at all.
    """

    def __init__(self, classify: Callable[[str, str], str] = entity_of) -> None:
        self.classify = classify
        self._routes: dict[tuple[str, str], list[tuple[Route, bool]]] = {}
        self._plans: dict[bool, dict[str, dict[str, tuple[Route, ...]]]] = {}
        self._shared: dict[bool, dict[str, tuple[Route, ...] | None]] = {}

    def add(self, entity: str, event: str, route: Route, *, logs_only: bool = False) -> Route:
        if event != ANY and event not in EVENT_NAMES:
            raise ValueError(f"unknown event name {event!r}: use INSERT, MODIFY, REMOVE or ANY")
        if not callable(route):
            raise TypeError(f"route {route!r} is not callable")
        self._routes.setdefault((entity, event), []).append((route, logs_only))
        self._plans.clear()
        self._shared.clear()
        return route

    def on(self, entity: str, event: str, *, logs_only: bool = False) -> Callable[[Route], Route]:
        """Decorator form of ``add``."""

        def register(route: Route) -> Route:
            return self.add(entity, event, route, logs_only=logs_only)

        return register

    def routes_for(self, entity: str, event: str, verbose: bool = True) -> tuple[Route, ...]:
        """The routes one change runs, in order."""
        keys = [(ANY, ANY), (ANY, event)]
        if entity != ANY:
            keys += [(entity, ANY), (entity, event)]
        return tuple(
            route
            for key in keys
            for route, logs_only in self._routes.get(key, ())
            if verbose or not logs_only
        )

    def plan_table(self, verbose: bool) -> dict[str, dict[str, tuple[Route, ...]]]:
        """event name -> entity -> routes, filled on demand by ``plan``; cached per level
        until the next ``add``. The batch loop looks plans up here inline."""
        table = self._plans.get(verbose)
        if table is None:
            table = self._plans[verbose] = {event: {} for event in EVENT_NAMES}
        return table

    def shared_plans(self, verbose: bool) -> dict[str, tuple[Route, ...] | None]:
        """event name -> the routes EVERY change of that event runs, when no entity-specific
        route applies at this level (the entity need not be classified), else None; cached
        per level until the next ``add``."""
        shared = self._shared.get(verbose)
        if shared is None:
            shared = self._shared[verbose] = {
                event: None
                if self._depends_on_entity(event, verbose)
                else self.routes_for(ANY, event, verbose)
                for event in EVENT_NAMES
            }
        return shared

    def _depends_on_entity(self, event: str, verbose: bool) -> bool:
        return any(
            entity != ANY
            and registered in (ANY, event)
            and any(verbose or not logs_only for _, logs_only in routes)
            for (entity, registered), routes in self._routes.items()
        )

    def plan(
        self, table: dict[str, dict[str, tuple[Route, ...]]], change: Change, verbose: bool
    ) -> tuple[Route, ...]:
        plans = table[change.event_name]
        entity = self.classify(change.pk, change.sk)
        found = plans.get(entity)
        if found is None:
            found = plans[entity] = self.routes_for(entity, change.event_name, verbose)
        return found

    def dispatch(self, change: Change, inv: Invocation) -> None:
        """Run the routes for one change and write its noted lines (the batch loop inlines
        this)."""
        try:
            for route in self.plan(self.plan_table(inv.verbose), change, inv.verbose):
                route(change, inv)
        finally:
            inv.flush_notes()

    def copy(self) -> Router:
        clone = Router(self.classify)
        for key, routes in self._routes.items():
            clone._routes[key] = list(routes)
        return clone


# --------------------------------------------------------------------------- seed routes


def log_item(change: Change, inv: Invocation) -> None:
    inv.note("Processing %s for item: %s#%s", change.event_name, change.pk, change.sk)


def log_insert(change: Change, inv: Invocation) -> None:
    inv.note("Processing INSERT event")


def new_user(change: Change, inv: Invocation) -> None:
    inv.note("New user created - could send welcome email")


def new_product(change: Change, inv: Invocation) -> None:
    inv.note("New product created - could update search index")


def new_order(change: Change, inv: Invocation) -> None:
    inv.note("New order created - could trigger fulfillment")


def detect_modifications(change: Change, inv: Invocation) -> None:
    """The seed's MODIFY handling: status and price changes, compared as values.

    Both checks, and the price's validity, are settled before anything is counted: a record
    that raises here is quarantined or retried, not processed, and a count added before the
    raise would be added again on every retry."""
    verbose = inv.verbose
    if verbose:
        inv.note("Processing MODIFY event")
    # The seed read a missing status as "" and a missing price as "0"; keep those defaults.
    status_changed = change.changed("status", "")
    price_changed = change.changed("price", 0)
    if price_changed:
        # A price that is not a number can never be processed as a price change (the seed
        # read it as "0" and announced a change that never happened): poison, quarantined.
        new_image = change.new_image
        raw_price = new_image.raw.get("price") if new_image is not None else None
        if raw_price is not None and "N" not in raw_price:
            raise PoisonRecordError(f"price is not a number: {raw_price!r}"[:200])
    if status_changed:
        inv.counts[STATUS_CHANGES] += 1
        if verbose:
            inv.note(
                "Status changed from %s to %s",
                change.old_value("status", ""),
                change.new_value("status", ""),
            )
    if price_changed:
        inv.counts[PRICE_CHANGES] += 1
        if verbose:
            inv.note(
                "Price changed from %s to %s",
                _as_stored(change.old_image, "price", 0),
                _as_stored(change.new_image, "price", 0),
            )


def _as_stored(image: Image | None, attr: str, default: object) -> object:
    """A number attribute as the item stores it (``N "0.0000005"``, not the decoded
    ``Decimal`` that prints ``5E-7``); other values decoded; ``default`` when absent."""
    raw = image.raw.get(attr) if image is not None else None
    if raw is None:
        return default
    if type(raw) is dict and type(raw.get("N")) is str:
        return raw["N"]
    return image.get(attr, default) if image is not None else default


def log_remove(change: Change, inv: Invocation) -> None:
    inv.note("Processing REMOVE event")


def user_deleted(change: Change, inv: Invocation) -> None:
    inv.note("User deleted - could cleanup user data")


def product_deleted(change: Change, inv: Invocation) -> None:
    inv.note("Product deleted - could remove from search")


def seed_router() -> Router:
    """A router holding the seed tutorial's behaviour."""
    router = Router()
    router.add(ANY, ANY, log_item, logs_only=True)
    router.add(ANY, INSERT, log_insert, logs_only=True)
    router.add(USER, INSERT, new_user, logs_only=True)
    router.add(PRODUCT, INSERT, new_product, logs_only=True)
    router.add(ORDER, INSERT, new_order, logs_only=True)
    router.add(ANY, MODIFY, detect_modifications)  # counts status/price changes: always runs
    router.add(ANY, REMOVE, log_remove, logs_only=True)
    router.add(USER, REMOVE, user_deleted, logs_only=True)
    router.add(PRODUCT, REMOVE, product_deleted, logs_only=True)
    return router


# The router lambda_handler uses. Add your routes to it (see the module docstring).
ROUTER = seed_router()
