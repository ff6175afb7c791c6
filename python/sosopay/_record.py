"""``record``: a frozen dataclass built without ``exec``.

``dataclasses.dataclass(frozen=True)`` writes six methods per class as source text and runs
``exec`` on each; for this package's records that was most of ``import sosopay.models`` (about
20 ms). ``record`` keeps the dataclass (``fields``, ``asdict``, ``replace`` and ``match`` work)
and gives it the same ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and frozen
``__setattr__`` / ``__delattr__`` as closures over the field names. Type checkers see
``dataclass(frozen=True)`` itself (the modules import it under ``TYPE_CHECKING``).
"""

from __future__ import annotations

import dataclasses
import operator
import reprlib
from typing import Any, Callable, Dict, Tuple, TypeVar

T = TypeVar("T")
_MISSING = dataclasses.MISSING


def _init(cls: type, fields: Tuple[dataclasses.Field, ...]) -> Callable[..., None]:  # type: ignore[type-arg]
    names = tuple(f.name for f in fields if f.init)
    known = frozenset(names)
    defaults: Dict[str, Any] = {}
    factories: Dict[str, Callable[[], Any]] = {}
    for f in fields:
        if f.default is not _MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not _MISSING:
            factories[f.name] = f.default_factory
    where = f"{cls.__qualname__}.__init__()"

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise TypeError(f"{where} takes {len(names) + 1} positional arguments but {len(args) + 1} were given")
        values = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in known:
                raise TypeError(f"{where} got an unexpected keyword argument {k!r}")
            if k in values:
                raise TypeError(f"{where} got multiple values for argument {k!r}")
            values[k] = v
        if len(values) < len(names):
            for n in names:
                if n not in values:
                    if n in defaults:
                        values[n] = defaults[n]
                    elif n in factories:
                        values[n] = factories[n]()
            missing = [n for n in names if n not in values]
            if missing:
                raise TypeError(f"{where} missing {len(missing)} required argument(s): {', '.join(map(repr, missing))}")
        # In field order, as the dataclass's own __init__ sets them.
        self.__dict__.update((n, values[n]) for n in names)

    __init__.__qualname__ = where[:-2]
    return __init__


def _values(names: Tuple[str, ...]) -> Callable[[Any], Tuple[Any, ...]]:
    """The fields' values as a tuple (what the dataclass's methods compare and hash)."""
    if not names:
        return lambda self: ()
    get = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda self: (get(self),)
    return get


def record(cls: type[T], own_init: bool = False) -> type[T]:
    """A frozen dataclass of ``cls`` (see the module's doc); with ``own_init`` the class keeps
    the ``__init__`` it defines."""
    cls = dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    shown = tuple(f.name for f in fields if f.repr)
    compared = _values(tuple(f.name for f in fields if f.compare))
    hashed = _values(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash)))
    field_names = frozenset(f.name for f in fields)

    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return compared(self) == compared(other)

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in field_names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in field_names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    methods: Dict[str, Any] = {
        "__repr__": __repr__,
        "__eq__": __eq__,
        "__hash__": __hash__,
        "__setattr__": __setattr__,
        "__delattr__": __delattr__,
    }
    if not own_init:
        methods["__init__"] = _init(cls, fields)
    for name, fn in methods.items():
        fn.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, fn)
    # What the class is: a frozen dataclass with init, repr and eq (so that a frozen dataclass
    # may subclass it, as it may subclass one made by `dataclass(frozen=True)`).
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    params.init = params.repr = params.eq = params.frozen = True
    return cls


def dataclass(*, frozen: bool, init: bool = True) -> Callable[[type[T]], type[T]]:
    """``dataclasses.dataclass(frozen=True[, init=False])`` as :func:`record` (the only form
    this package uses; with ``init=False`` the class defines its own ``__init__``)."""
    if not frozen:
        raise TypeError("sosopay._record.dataclass makes frozen dataclasses only")
    if not init:
        return lambda cls: record(cls, own_init=True)
    return record
