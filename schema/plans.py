"""Plans kept per query document, for the two executors that plan a document once and run
the plan at every request: the compiled plans (:mod:`schema.execution`) and the read
compiler (:mod:`schema.compiler`).

A plan depends on the document and on the values of the variables its ``@skip`` and
``@include`` read (:func:`schema.selections.switch_variables`). Strawberry's parser cache
hands back the same document for the same text, so the operation node identifies the
document; entries keep it alive, so its id is not reused while they exist.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from schema.selections import Unsupported, switch_variables

P = TypeVar("P")


class PlansByDocument(Generic[P]):
    """Plans by (operation node, values of its ``@skip``/``@include`` variables), at most
    ``size`` of each kind, the least recently used dropped first. A document that cannot
    be planned is kept as the reason, and logged at INFO the first time it is met:
    ``message`` is formatted with the operation's name and the reason."""

    def __init__(self, logger: logging.Logger, message: str, size: int) -> None:
        self.logger = logger
        self.message = message
        self.size = size
        self.switches: OrderedDict[int, tuple[Any, tuple[str, ...]]] = OrderedDict()
        self.plans: OrderedDict[tuple[Any, ...], tuple[Any, P | str]] = OrderedDict()
        self.logged: OrderedDict[int, Any] = OrderedDict()

    def get(self, ctx: Any, make: Callable[[dict[str, Any]], P]) -> P | str:
        """The plan of the executor's operation, made by ``make(switch values)`` the first
        time, or why there is none (the text of the :class:`Unsupported` it raised)."""
        operation = ctx.operation
        switches = self.switches.get(id(operation))
        if switches is None or switches[0] is not operation:
            switches = (operation, switch_variables(operation, ctx.fragment_definitions))
            put_bounded(self.switches, id(operation), switches, self.size)
        coerced = ctx.variable_values.coerced
        values = {name: coerced.get(name) for name in switches[1]}
        key = (id(operation), *(repr(values[name]) for name in switches[1]))
        entry = self.plans.get(key)
        if entry is not None and entry[0] is operation:
            self.plans.move_to_end(key)
            return entry[1]
        try:
            plan: P | str = make(values)
        except Unsupported as error:
            plan = str(error)
            if self.logged.get(id(operation)) is not operation:
                put_bounded(self.logged, id(operation), operation, self.size)
                name = operation.name.value if operation.name else "(anonymous)"
                self.logger.info(self.message, name, plan)
        put_bounded(self.plans, key, (operation, plan), self.size)
        return plan


def put_bounded(entries: OrderedDict[Any, Any], key: Any, value: Any, size: int) -> None:
    """Keep ``value`` as the most recently used entry, dropping the least recently used
    beyond ``size``."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > size:
        entries.popitem(last=False)
