"""A call of one of an aggregate's verbs, held as data until the Ledger has loaded the aggregate.

The changes of a measure (domain.measure_changes) and the steps of a negotiation
(domain.negotiation_steps) are such calls. Each public type of change is a `Verb`: the
event it records and the aggregate's method that decides and records it. Called with
the facts of the event and the method's keyword arguments, typed as the method types
them, a verb makes a `VerbCall`; applying the call calls the method on the aggregate.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from domain.events import Facts, LedgerAggregate, LedgerEvent, type_name

_A = TypeVar("_A", bound=LedgerAggregate)
_C = TypeVar("_C", bound="VerbCall[Any]")
_P = ParamSpec("_P")


@dataclass(frozen=True)
class Verb(Generic[_C, _P]):
    """A public type of change: the event it records, and the aggregate's method (as the
    class holds it, `TariffMeasure.change_rate`) that decides and records that event.

    `ChangeRate(facts, rate_pct=..., hs_prefixes=...)` makes a call of the kind
    `call_class` (MeasureChange), its arguments checked against the method's signature.
    """

    call_class: type[_C]
    event: type[LedgerEvent]
    method: Callable[Concatenate[Any, Facts, _P], None]
    parameters: frozenset[str] = field(init=False, repr=False, compare=False)
    """The names of the method's keyword arguments: those of every call."""

    def __post_init__(self) -> None:
        parameters = inspect.signature(self.method).parameters.values()
        names = frozenset(p.name for p in parameters if p.kind is p.KEYWORD_ONLY)
        object.__setattr__(self, "parameters", names)

    @property
    def event_type(self) -> str:
        """The public name of the event the verb records ("rate_changed")."""
        return type_name(self.event)

    def __call__(self, facts: Facts, /, *args: _P.args, **arguments: _P.kwargs) -> _C:
        if args:
            raise TypeError(f"{self!r} takes its arguments after the facts by keyword")
        return self.with_arguments(facts, arguments)

    def with_arguments(self, facts: Facts, arguments: dict[str, Any]) -> _C:
        """The call with `arguments` gathered by name (a schema model's fields, say): what
        the type checker cannot see is checked here, as calling the method would."""
        if arguments.keys() != self.parameters:
            raise TypeError(
                f"{self!r} takes the arguments {sorted(self.parameters)}, not {sorted(arguments)}"
            )
        return self.call_class(self, facts, arguments)

    def __repr__(self) -> str:
        return self.method.__qualname__


@dataclass(frozen=True)
class VerbCall(Generic[_A]):
    """A call of a verb of an aggregate `_A`: the facts of its event, and the keyword
    arguments of the verb's method."""

    verb: Verb[Any, ...]
    facts: Facts
    arguments: Mapping[str, Any] = field(hash=False)

    @property
    def event(self) -> type[LedgerEvent]:
        """The event the call records."""
        return self.verb.event

    @property
    def event_type(self) -> str:
        """The public name of the event the call records ("rate_changed")."""
        return self.verb.event_type

    def apply_to(self, aggregate: _A) -> None:
        """Call the verb on `aggregate`: it checks its rules, then records the event."""
        self.verb.method(aggregate, self.facts, **self.arguments)

    def __repr__(self) -> str:
        arguments = "".join(f", {name}={value!r}" for name, value in self.arguments.items())
        return f"{self.verb!r}({self.facts!r}{arguments})"


class Verbs(dict[str, Verb[_C, ...]], Generic[_A, _C]):
    """The public types of change of one kind of stream, by the public type of their event:
    verbs of the aggregate `_A` making calls of the kind `_C`."""

    def __init__(self, aggregate: type[_A], call_class: type[_C]) -> None:
        super().__init__()
        self.aggregate = aggregate
        self.call_class = call_class

    def enter(
        self, event: type[LedgerEvent], method: Callable[Concatenate[_A, Facts, _P], None]
    ) -> Verb[_C, _P]:
        """The verb recording `event` by `method` (one of the aggregate's), entered here."""
        verb = Verb(self.call_class, event, method)
        self[verb.event_type] = verb
        return verb
