"""One audit Query as data: its partition, its sort-key range, and how a page token must look."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lfv_monitor.audit.errors import InvalidPageTokenError
from lfv_monitor.audit.tokens import decode_token


@dataclass(frozen=True)
class Plan:
    """One Query: its partition, the sort-key range, and how a start key must look."""

    index: str | None
    partition: tuple[str, str]  # (attribute, value)
    sort_attribute: str
    #: Derives the table key (pk, sk) from a sort-key value; None when the value is malformed.
    table_key: Callable[[str], tuple[str, str] | None]
    prefix: str | None = None
    lower: str | None = None
    upper: str | None = None
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def attributes(self) -> frozenset[str]:
        return frozenset({"pk", "sk", self.partition[0], self.sort_attribute})

    def key_condition(self) -> tuple[str, dict[str, str], dict[str, str]]:
        names = {"#p": self.partition[0], "#s": self.sort_attribute}
        values = {":p": self.partition[1]}
        expression = "#p = :p"
        if self.prefix is not None:
            expression += " AND begins_with(#s, :prefix)"
            values[":prefix"] = self.prefix
        elif self.lower is not None and self.upper is not None:
            expression += " AND #s BETWEEN :lo AND :hi"
            values |= {":lo": self.lower, ":hi": self.upper}
        elif self.lower is not None:
            expression += " AND #s >= :lo"
            values[":lo"] = self.lower
        elif self.upper is not None:
            expression += " AND #s <= :hi"
            values[":hi"] = self.upper
        else:
            names.pop("#s")
        return expression, names, values

    def start_key(self, token: str) -> dict[str, str]:
        """The ExclusiveStartKey in ``token``, checked to be a position inside this query."""
        key = decode_token(token, self.attributes)
        sort_value = key[self.sort_attribute]
        inside = (
            key[self.partition[0]] == self.partition[1]
            and (self.prefix is None or sort_value.startswith(self.prefix))
            and (self.lower is None or sort_value >= self.lower)
            and (self.upper is None or sort_value <= self.upper)
            and self.table_key(sort_value) == (key["pk"], key["sk"])
        )
        if not inside:
            raise InvalidPageTokenError("next token does not belong to this query")
        return key
