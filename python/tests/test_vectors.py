"""The shared golden vectors (produced by the vendor's own client) through the binding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

import sosopay

VECTORS: Dict[str, List[Dict[str, Any]]] = json.loads(
    (Path(__file__).resolve().parents[2] / "tests" / "vectors" / "envelope.json").read_text("utf-8")
)


def test_there_are_vectors() -> None:
    assert len(VECTORS["sign"]) >= 100
    assert VECTORS["query_sign"] and VECTORS["cancel_sign"] and VECTORS["des3"]


@pytest.mark.parametrize("v", VECTORS["sign"], ids=lambda v: f"{v['timestamp']}-{len(v['body'])}")
def test_sign_body(v: Dict[str, Any]) -> None:
    sign = sosopay.sign_body(v["key"], v["body"], timestamp=v["timestamp"])
    assert sign == v["sign"]
    assert v["timestamp"] + v["key"] + sosopay.strip_java_whitespace(v["body"]) == v["sign_input"]
    sosopay.verify_body(v["key"], v["sign"], v["body"])
    with pytest.raises(sosopay.SignatureError):
        sosopay.verify_body("WRONGKEY", v["sign"], v["body"])


@pytest.mark.parametrize("v", VECTORS["query_sign"])
def test_sign_query(v: Dict[str, Any]) -> None:
    assert sosopay.sign_query(v["key"], v["charge_code"], timestamp=v["timestamp"]) == v["sign"]
    sosopay.verify_query(v["key"], v["sign"], v["charge_code"])
    with pytest.raises(sosopay.SignatureError):
        sosopay.verify_query(v["key"], v["sign"], v["charge_code"] + "X")


@pytest.mark.parametrize("v", VECTORS["cancel_sign"])
def test_sign_cancel(v: Dict[str, Any]) -> None:
    sign = sosopay.sign_cancel(v["key"], v["charge_code"], v["busi_code"], timestamp=v["timestamp"])
    assert sign == v["sign"]
    sosopay.verify_cancel(v["key"], v["sign"], v["charge_code"], v["busi_code"])
    with pytest.raises(sosopay.SignatureError):
        sosopay.verify_cancel(v["key"], v["sign"], v["charge_code"], "other")


@pytest.mark.parametrize("v", VECTORS["des3"], ids=lambda v: f"{v['key'][:6]}-{len(v['plaintext'])}")
def test_des3(v: Dict[str, Any]) -> None:
    assert sosopay.encrypt(v["key"], v["plaintext"]) == v["ciphertext_base64"]
    assert sosopay.encrypt(v["key"], v["plaintext"].encode("utf-8")) == v["ciphertext_base64"]
    assert sosopay.decrypt(v["key"], v["ciphertext_base64"]) == v["plaintext"]
    env = sosopay.Envelope(v["key"])
    assert env.encrypt(v["plaintext"]) == v["ciphertext_base64"]
    assert env.decrypt(v["ciphertext_base64"]) == v["plaintext"]
    assert env.decrypt_bytes(v["ciphertext_base64"]) == v["plaintext"].encode("utf-8")


def test_envelope_seal_open_round_trip() -> None:
    key = "98SDKFUO432HNODS098EEE07U9DUOIUE"
    env = sosopay.Envelope(key)
    body = '{"BUSI_ID":"0010000001","PAY_SUBJECT":"SOUSHOU product 2","AMT":"0.01"}'
    sign, ct = env.seal(body, "1795706991879")
    assert sign == sosopay.sign_body(key, body, timestamp=1795706991879)
    assert ct == sosopay.encrypt(key, body)
    assert env.open(sign, ct) == body
    # The signature covers the plaintext: a different body under the same sign is refused.
    with pytest.raises(sosopay.SignatureError):
        env.open(sign, sosopay.encrypt(key, body.replace("0.01", "0.02")))
    # Garbage and the wrong key are CryptoErrors, never a crash.
    with pytest.raises(sosopay.CryptoError):
        env.open(sign, "!!!not base64")
    with pytest.raises(sosopay.SosopayError):
        sosopay.Envelope("another-key-entirely-000000").open(sign, ct)


def test_default_timestamp_is_now_in_ms() -> None:
    sign = sosopay.sign_body("k", "{}")
    ts = sign.split(":")[1]
    assert len(ts) == 13
    verified = sosopay.verify_body("k", sign, "{}")
    assert verified.timestamp_ms == int(ts) and verified.timestamp == ts
    assert verified == sosopay.Envelope("k").verify_body(sign, "{}")
    assert repr(verified) == f"VerifiedSignature(timestamp='{ts}', timestamp_ms={ts})"


def test_bad_timestamp_and_key() -> None:
    with pytest.raises(sosopay.ValidationError) as e:
        sosopay.sign_body("k", "{}", timestamp="12ab")
    assert e.value.field == "timestamp"
    with pytest.raises(sosopay.ValidationError) as e2:
        sosopay.Envelope("")
    assert e2.value.field == "key"
    with pytest.raises(sosopay.SignatureError):
        sosopay.verify_body("k", "nonsense", "{}")


def test_envelope_repr_hides_key() -> None:
    key = "98SDKFUO432HNODS098EEE07U9DUOIUE"
    assert key not in repr(sosopay.Envelope(key))
    assert "98SDK" not in repr(sosopay.Envelope(key))
