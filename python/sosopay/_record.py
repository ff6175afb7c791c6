"""``dataclass``: the package's frozen dataclasses, built without ``exec`` or ``dataclasses``.

``dataclasses.dataclass(frozen=True)`` writes six methods per class as source text and runs
``exec`` on each, and importing ``dataclasses`` imports ``inspect``: together most of the first
use of ``sosopay.Client`` (issue #13). Here the records get the same ``__init__``, ``__repr__``,
``__eq__``, ``__hash__``, frozen ``__setattr__`` / ``__delattr__`` and ``__match_args__`` as
closures over their field names, and become real dataclasses (``fields``, ``asdict``,
``replace``, ``is_dataclass``, subclassing by a frozen dataclass) the first time anything asks
for ``__dataclass_fields__``: ``dataclasses`` is imported then. Type checkers see
``dataclasses.dataclass`` and ``dataclasses.field`` themselves (the modules import them under
``TYPE_CHECKING``). Only what this package uses is supported: frozen, own annotations (a base
class's are not fields, as with ``dataclass`` over a plain mixin), ``init=False`` for a class
that writes its own ``__init__``, and ``field(repr=, compare=, default=, default_factory=)``.
"""

from __future__ import annotations

import _thread
import operator
import reprlib
from typing import Any, Callable, Dict, Tuple, TypeVar

T = TypeVar("T")
_MISSING: Any = object()
#: Held while a record becomes a real dataclass (two threads may ask for its fields at once).
_LOCK = _thread.allocate_lock()


class _Field:
    """What ``field(...)`` says of one field until the class becomes a real dataclass."""

    __slots__ = ("default", "default_factory", "repr", "compare")

    def __init__(self, default: Any, default_factory: Any, repr: bool, compare: bool) -> None:
        self.default, self.default_factory, self.repr, self.compare = default, default_factory, repr, compare


def field(*, default: Any = _MISSING, default_factory: Any = _MISSING, repr: bool = True, compare: bool = True) -> Any:
    """``dataclasses.field`` for :func:`dataclass` (the arguments this package uses)."""
    return _Field(default, default_factory, repr, compare)


def _values(names: Tuple[str, ...]) -> Callable[[Any], Tuple[Any, ...]]:
    """The fields' values as a tuple (what the dataclass's methods compare and hash)."""
    if not names:
        return lambda self: ()
    get = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda self: (get(self),)
    return get


def _init(cls: type, names: Tuple[str, ...], fields: Dict[str, _Field]) -> Callable[..., None]:
    known = frozenset(names)
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
                f = fields[n]
                if n not in values and f.default is not _MISSING:
                    values[n] = f.default
                elif n not in values and f.default_factory is not _MISSING:
                    values[n] = f.default_factory()
            missing = [n for n in names if n not in values]
            if missing:
                raise TypeError(f"{where} missing {len(missing)} required argument(s): {', '.join(map(repr, missing))}")
        # In field order, as the dataclass's own __init__ sets them.
        self.__dict__.update((n, values[n]) for n in names)

    return __init__


class _OnFirstUse:
    """``__dataclass_fields__`` / ``__dataclass_params__`` of one record: makes it a real
    dataclass on first use, then answers from it."""

    def __init__(self, cls: type, attr: str) -> None:
        self.cls, self.attr = cls, attr

    def __get__(self, obj: Any, owner: Any) -> Any:
        _make_dataclass(self.cls)
        return self.cls.__dict__[self.attr]


def _make_dataclass(cls: Any) -> None:
    with _LOCK:
        if isinstance(cls.__dict__.get("__dataclass_fields__"), dict):
            return
        import dataclasses

        def given(v: Any) -> Any:
            return dataclasses.MISSING if v is _MISSING else v

        specs: Dict[str, _Field] = cls.__record_fields__
        for name, f in specs.items():
            spec = dataclasses.field(default=given(f.default), default_factory=given(f.default_factory), repr=f.repr, compare=f.compare)
            setattr(cls, name, spec)
        # Its methods are the closures already set: dataclass() adds the fields and the params
        # (replacing the two _OnFirstUse, so that no reader ever finds neither) and puts each
        # field's class attribute back as it was (its default, or none).
        dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
        params = cls.__dataclass_params__
        params.init = params.repr = params.eq = params.frozen = True


def _own_field(value: Any) -> Any:
    """A ``dataclasses.field(...)`` as a :class:`_Field` (any other value as is)."""
    if type(value).__name__ == "Field" and type(value).__module__ == "dataclasses":
        import dataclasses

        def given(v: Any) -> Any:
            return _MISSING if v is dataclasses.MISSING else v

        return _Field(given(value.default), given(value.default_factory), value.repr, value.compare)
    return value


def record(cls: type[T], own_init: bool = False) -> type[T]:
    """A frozen record of ``cls`` (see the module's doc); with ``own_init`` the class keeps the
    ``__init__`` it defines."""
    annotations: Dict[str, Any] = cls.__dict__.get("__annotations__", {})
    specs: Dict[str, _Field] = {}
    for name in annotations:
        value = _own_field(cls.__dict__.get(name, _MISSING))
        if not isinstance(value, _Field):
            specs[name] = _Field(value, _MISSING, True, True)
            continue
        specs[name] = value
        # The class attribute is the default, or none (as dataclass leaves it).
        if value.default is _MISSING:
            delattr(cls, name)
        else:
            setattr(cls, name, value.default)
    names = tuple(specs)
    shown = tuple(n for n in names if specs[n].repr)
    compared = _values(tuple(n for n in names if specs[n].compare))
    field_names = frozenset(names)

    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return compared(self) == compared(other)

    def __hash__(self: Any) -> int:
        return hash(compared(self))

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in field_names:
            raise _frozen(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in field_names:
            raise _frozen(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    methods: Dict[str, Any] = {
        "__repr__": __repr__,
        "__eq__": __eq__,
        "__hash__": __hash__,
        "__setattr__": __setattr__,
        "__delattr__": __delattr__,
    }
    if not own_init:
        methods["__init__"] = _init(cls, names, specs)
    for name, fn in methods.items():
        fn.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, fn)
    setattr(cls, "__match_args__", names)
    setattr(cls, "__record_fields__", specs)
    for attr in ("__dataclass_fields__", "__dataclass_params__"):
        setattr(cls, attr, _OnFirstUse(cls, attr))
    return cls


def _frozen(message: str) -> Exception:
    """``dataclasses.FrozenInstanceError`` (an ``AttributeError``), importing ``dataclasses`` only
    when one is raised."""
    import dataclasses

    return dataclasses.FrozenInstanceError(message)


def dataclass(*, frozen: bool, init: bool = True) -> Callable[[type[T]], type[T]]:
    """``dataclasses.dataclass(frozen=True[, init=False])`` as :func:`record` (the only form this
    package uses; with ``init=False`` the class defines its own ``__init__``)."""
    if not frozen:
        raise TypeError("sosopay._record.dataclass makes frozen dataclasses only")
    if not init:
        return lambda cls: record(cls, own_init=True)
    return record

