"""Type stubs of the extension module ``sosopay._native`` (pyo3, Rust core)."""

from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

__version__: str

_Timestamp = Union[str, int, None]
_Body = Union[bytes, str]
# An amount in yuan (exact text or Decimal); a dictionary value (an enum member, its wire text
# or its int code).
_Yuan = Union[str, Decimal, None]
_Dict = Union[str, int, None]

def sign_body(key: str, body: str, timestamp: _Timestamp = None) -> str: ...
def sign_query(key: str, charge_code: str, timestamp: _Timestamp = None) -> str: ...
def sign_cancel(key: str, charge_code: str, busi_code: str, timestamp: _Timestamp = None) -> str: ...
def verify_body(key: str, sign: str, body: str) -> int: ...
def verify_query(key: str, sign: str, charge_code: str) -> int: ...
def verify_cancel(key: str, sign: str, charge_code: str, busi_code: str) -> int: ...
def encrypt(key: str, plaintext: _Body) -> str: ...
def decrypt(key: str, ciphertext: str) -> str: ...
def strip_java_whitespace(body: str) -> str: ...

class Envelope:
    """A merchant's envelope; the 3DES key schedule is built once."""

    def __init__(self, key: str) -> None: ...
    def seal(self, body: str, timestamp: _Timestamp = None) -> Tuple[str, str]: ...
    def open(self, sign: str, ciphertext: str) -> str: ...
    def sign_body(self, body: str, timestamp: _Timestamp = None) -> str: ...
    def verify_body(self, sign: str, body: str) -> int: ...
    def encrypt(self, plaintext: _Body) -> str: ...
    def decrypt(self, ciphertext: str) -> str: ...
    def decrypt_bytes(self, ciphertext: str) -> bytes: ...

def _enum_members(enum_name: str) -> List[Tuple[str, str]]: ...
def _normalize_enum(enum_name: str, raw: str) -> str: ...
def _dictionary_rule(enum_name: str, rule: str, raw: str) -> bool: ...
def to_fen(value: Any, field: str = "amount", fen: bool = False) -> int: ...
def fen_to_yuan(fen: int) -> str: ...

class CancelToken:
    """Stops a running flow from another thread (a cashier's cancel button). One per flow."""

    def __init__(self) -> None: ...
    def cancel(self) -> None: ...
    def is_cancelled(self) -> bool: ...

# The progress callback receives {"kind", "elapsed", "state", "status", "requested"}.
_ProgressHook = Optional[Callable[[Dict[str, Any]], None]]

class NativeClient:
    def __init__(
        self,
        busi_code: str,
        key: str,
        *,
        base_url: Optional[str] = None,
        environment: Optional[str] = None,
        encrypt: bool = False,
        format: Optional[str] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        micropay_timeout: Optional[float] = None,
        retry_attempts: Optional[int] = None,
        retry_base_delay: Optional[float] = None,
        retry_max_delay: Optional[float] = None,
        default_oper_id: Optional[str] = None,
        default_dev_id: Optional[str] = None,
        on_request: Optional[Callable[[Dict[str, Any]], None]] = None,
    ) -> None: ...
    @property
    def busi_code(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    @property
    def encrypt(self) -> bool: ...
    def micropay(
        self,
        *,
        charge_code: str,
        dynamic_id: str,
        pay_subject: str,
        amount: _Yuan = None,
        amount_fen: Optional[int] = None,
        oper_id: Optional[str] = None,
        dev_id: Optional[str] = None,
        channel: _Dict = None,
        dynamic_id_type: _Dict = None,
        register_id: Optional[str] = None,
        merchant_para: Optional[str] = None,
        time_expire: Optional[int] = None,
        goods: Optional[Sequence[Any]] = None,
        verify_codes: Optional[str] = None,
        notify_url: Optional[str] = None,
    ) -> Dict[str, Any]: ...
    def create_qr_order(
        self,
        *,
        charge_code: str,
        pay_subject: str,
        channel: _Dict,
        amount: _Yuan = None,
        amount_fen: Optional[int] = None,
        oper_id: Optional[str] = None,
        dev_id: Optional[str] = None,
        register_id: Optional[str] = None,
        merchant_para: Optional[str] = None,
        time_expire: Optional[int] = None,
        notify_url: Optional[str] = None,
        goods: Optional[Sequence[Any]] = None,
        verify_codes: Optional[str] = None,
        trade_type: _Dict = None,
        sub_appid: Optional[str] = None,
        sub_openid: Optional[str] = None,
    ) -> Dict[str, Any]: ...
    def create_jsapi_order(
        self,
        *,
        charge_code: str,
        pay_subject: str,
        sub_openid: str,
        amount: _Yuan = None,
        amount_fen: Optional[int] = None,
        sub_appid: Optional[str] = None,
        channel: _Dict = None,
        oper_id: Optional[str] = None,
        dev_id: Optional[str] = None,
        register_id: Optional[str] = None,
        merchant_para: Optional[str] = None,
        time_expire: Optional[int] = None,
        notify_url: Optional[str] = None,
        goods: Optional[Sequence[Any]] = None,
        verify_codes: Optional[str] = None,
    ) -> Dict[str, Any]: ...
    def query(self, *, code: str, ser_type: Any = None) -> Dict[str, Any]: ...
    def refund(
        self,
        *,
        refund_subject: str,
        refund_amount: _Yuan = None,
        refund_amount_fen: Optional[int] = None,
        charge_code: Optional[str] = None,
        charge_down_code: Optional[str] = None,
        out_refund_no: Optional[str] = None,
        oper_id: Optional[str] = None,
        dev_id: Optional[str] = None,
    ) -> Dict[str, Any]: ...
    def cancel(self, *, charge_code: str, apply: bool = False) -> Dict[str, Any]: ...
    def flow_recharge(
        self,
        *,
        phone_no: str,
        flow_val: int,
        flow_type: Optional[str] = None,
        notify_url: Optional[str] = None,
    ) -> Dict[str, Any]: ...
    def micropay_and_wait(
        self,
        *,
        charge_code: str,
        dynamic_id: str,
        pay_subject: str,
        amount: _Yuan = None,
        amount_fen: Optional[int] = None,
        oper_id: Optional[str] = None,
        dev_id: Optional[str] = None,
        channel: _Dict = None,
        dynamic_id_type: _Dict = None,
        register_id: Optional[str] = None,
        merchant_para: Optional[str] = None,
        time_expire: Optional[int] = None,
        goods: Optional[Sequence[Any]] = None,
        verify_codes: Optional[str] = None,
        notify_url: Optional[str] = None,
        deadline: Optional[float] = None,
        poll_interval: Optional[float] = None,
        max_poll_interval: Optional[float] = None,
        cancel_attempts: Optional[int] = None,
        max_duration: Optional[float] = None,
        gateway_hold: Optional[float] = None,
        cancel: Optional[CancelToken] = None,
        on_progress: _ProgressHook = None,
    ) -> Dict[str, Any]: ...
    # Flow options in seconds: deadline, poll_interval, max_poll_interval, max_duration,
    # gateway_hold; cancel_attempts an int (micropay_and_wait takes them too).
    def wait_for_payment(
        self,
        *,
        charge_code: str,
        deadline: Optional[float] = None,
        poll_interval: Optional[float] = None,
        max_poll_interval: Optional[float] = None,
        cancel_attempts: Optional[int] = None,
        max_duration: Optional[float] = None,
        gateway_hold: Optional[float] = None,
        cancel: Optional[CancelToken] = None,
        on_progress: _ProgressHook = None,
    ) -> Dict[str, Any]: ...

class NativeNotification:
    def to_dict(self) -> Dict[str, Any]: ...

class NotificationVerifier:
    def __init__(self, key: str, *, max_age: Optional[float] = None) -> None: ...
    def parse(self, query: str, body: _Body, *, now_ms: Optional[int] = None) -> NativeNotification: ...

def parse_notification(
    key: str, query: str, body: _Body, *, max_age: Optional[float] = None
) -> NativeNotification: ...

class MemoryIdempotencyStore:
    """The in-process idempotency store."""

    def __init__(self) -> None: ...
    def begin(self, id: str) -> str: ...
    def complete(self, id: str) -> None: ...
    def abandon(self, id: str) -> None: ...
    def __len__(self) -> int: ...

def process_once(store: Any, notification: NativeNotification, handler: Callable[[Any], object], arg: Any) -> str: ...
def webhook_answer(outcome: str) -> Tuple[int, str]: ...


# The sandbox gateway (cargo feature `sandbox`, on in the published wheel); use sosopay.testing.
class NativeSandboxError(Exception): ...

class NativeSandbox:
    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        seed: int = 0,
        faults: List[str] = ...,
        merchants: List[Tuple[str, str]] = ...,
        host: str = "127.0.0.1",
        port: int = 0,
        max_request_age: Optional[float] = None,
    ) -> None: ...
    @property
    def base_url(self) -> str: ...
    @property
    def root_url(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def ledger(self) -> Dict[str, Any]: ...
    def order(self, charge_code: str) -> Optional[Dict[str, Any]]: ...
    def pay(self, charge_code: str) -> Dict[str, Any]: ...
    def fail(self, charge_code: str) -> Dict[str, Any]: ...
    def set_faults(self, rules: List[str], seed: Optional[int] = None) -> None: ...
    def faults(self) -> Tuple[List[str], int]: ...
    def reset(self) -> None: ...
    def add_merchant(self, busi_id: str, key: str) -> None: ...
    def shutdown(self) -> None: ...
