"""The price book: streamops/planner/prices.json, loaded and checked once.

Why a data file: prices change and differ by region; they must be easy to update and to
audit (each figure names the page it was read from and when), and never scattered in code.
A figure that could not be found is `null` with a `missing` reason; the plan prints that
reason on the line that needed it instead of inventing a number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamops.planner.errors import PlanError

PRICES_FILE = Path(__file__).resolve().parent / "prices.json"
SECTIONS = ("prices", "free_tier", "model", "assumptions")


@dataclass(frozen=True)
class Figure:
    """One number from the price book and where it came from."""

    key: str
    value: Any  # a number (or list, for some model facts); None when not found
    unit: str
    per: float  # a price is `value` dollars per `per` units
    sources: tuple[str, ...]  # the URLs (or file) it was read from
    note: str  # basis, caveat or -- for a missing figure -- why it is missing

    @property
    def missing(self) -> bool:
        return self.value is None

    @property
    def unit_price(self) -> float:
        """Dollars per single unit (0 for a missing price: see `note`)."""
        return 0.0 if self.value is None else float(self.value) / self.per


@dataclass(frozen=True)
class PriceBook:
    region: str
    currency: str
    read_on: str
    path: Path
    figures: dict[str, dict[str, Figure]]  # section -> key -> figure

    def price(self, key: str) -> Figure:
        return self._get("prices", key)

    def free(self, key: str) -> Figure:
        return self._get("free_tier", key)

    def model(self, key: str) -> Any:
        return self._get("model", key).value

    def assumption(self, key: str) -> Any:
        return self._get("assumptions", key).value

    def model_figure(self, key: str) -> Figure:
        return self._get("model", key)

    def _get(self, section: str, key: str) -> Figure:
        try:
            return self.figures[section][key]
        except KeyError:
            raise PlanError(f"{self.path.name} has no {section} entry {key!r}") from None


def load_prices(path: Path = PRICES_FILE) -> PriceBook:
    """Read and check the price book; every problem is a PlanError naming the entry."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PlanError(f"cannot read the price book {path}: {error}") from error
    for key in ("region", "currency", "read_on", "sources", *SECTIONS):
        if key not in document:
            raise PlanError(f"{path.name} is missing {key!r}")
    sources: dict[str, str] = document["sources"]
    figures = {
        section: {
            key: _figure(path, sources, f"{section}.{key}", key, entry)
            for key, entry in document[section].items()
        }
        for section in SECTIONS
    }
    return PriceBook(document["region"], document["currency"], document["read_on"], path, figures)


def _figure(path: Path, sources: dict[str, str], where: str, key: str, entry: Any) -> Figure:
    if not isinstance(entry, dict) or "value" not in entry:
        raise PlanError(f"{path.name}: {where} must be an object with a 'value'")
    value = entry["value"]
    if value is None and not entry.get("missing"):
        raise PlanError(f"{path.name}: {where} is null without a 'missing' reason")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        raise PlanError(f"{path.name}: {where} must not be negative (got {value})")
    names = entry.get("source", [])
    unknown = [name for name in names if name not in sources]
    if unknown:
        raise PlanError(f"{path.name}: {where} cites unknown sources {unknown}")
    per = entry.get("per", 1)
    if not isinstance(per, (int, float)) or per <= 0:
        raise PlanError(f"{path.name}: {where} 'per' must be a positive number (got {per!r})")
    note = entry.get("missing") or entry.get("note") or entry.get("basis") or ""
    return Figure(
        key, value, entry.get("unit", ""), float(per), tuple(sources[n] for n in names), note
    )
