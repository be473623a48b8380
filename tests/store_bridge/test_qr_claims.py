"""QR codes whose claims or header are odd JSON: a refusal with its reason, never a crash.

JSON as PyJWT reads it allows NaN, Infinity, numbers like 1e400 (infinite as a float) and
integers of any size. A code the operator signed with such a time, or with a header whose
``alg`` is a list, made the bridge answer 500 with no event. Each must be a refusal: 403
with its reason, an `access_denied` event, the turnstile shut. The operator's backend is
the edge of the world here: it signs whatever JSON text it is given.
"""

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store_bridge.core.credentials import CredentialRejected, QrCheckIn, verify_qr

from .conftest import ISSUER, SITE, Operator, Store, StoreFactory


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(operator: Operator, header: str, payload: str) -> str:
    """A compact JWS over exactly this header and payload text, signed with the Ed25519 key."""
    signing_input = f"{_b64(header.encode())}.{_b64(payload.encode())}"
    return f"{signing_input}.{_b64(operator.ed.sign(signing_input.encode()))}"


def claims_text(**times: str) -> str:
    """The claims of a good code, with `iat` and `exp` written as raw JSON text."""
    now = int(time.time())
    values = {"iat": str(now), "exp": str(now + 30), **times}
    return (
        f'{{"iss": "{ISSUER}", "aud": "{SITE}", "sub": "acct-7f3a", "jti": "j-{time.time_ns()}",'
        f' "iat": {values["iat"]}, "exp": {values["exp"]}}}'
    )


HEADER = '{"alg": "EdDSA", "kid": "ed"}'
NOW = str(int(time.time()))
TIMES: list[tuple[str, dict[str, str], str]] = [
    ("exp NaN", {"exp": "NaN"}, "malformed"),
    ("iat NaN", {"iat": "NaN"}, "malformed"),
    ("both NaN", {"iat": "NaN", "exp": "NaN"}, "malformed"),
    ("exp 10^400", {"exp": "1" + "0" * 400}, "malformed"),
    ("iat -10^400", {"iat": "-1" + "0" * 400}, "malformed"),
    ("exp 1e400", {"exp": "1e400"}, "malformed"),
    ("exp Infinity", {"exp": "Infinity"}, "malformed"),
    ("iat -Infinity", {"iat": "-Infinity"}, "malformed"),
    ("exp 1e300", {"exp": "1e300"}, "malformed"),
    ("exp year 10000", {"exp": "253402300800"}, "malformed"),
    ("iat negative", {"iat": "-5", "exp": "20"}, "malformed"),
    ("exp true", {"exp": "true"}, "malformed"),
    ("iat false", {"iat": "false"}, "malformed"),
    ("exp a text", {"exp": '"soon"'}, "malformed"),
    ("iat a numeric text", {"iat": f'"{NOW}"'}, "malformed"),
    ("exp a list", {"exp": "[1]"}, "malformed"),
    ("exp an object", {"exp": '{"t": 1}'}, "malformed"),
    ("exp null", {"exp": "null"}, "missing_claim"),
]
HEADERS: list[tuple[str, str, str]] = [
    ("alg a list", '{"alg": ["EdDSA"], "kid": "ed"}', "alg_not_allowed"),
    ("alg an object", '{"alg": {"EdDSA": 1}, "kid": "ed"}', "alg_not_allowed"),
    ("alg a number", '{"alg": 1e400, "kid": "ed"}', "alg_not_allowed"),
    ("alg null", '{"alg": null, "kid": "ed"}', "alg_not_allowed"),
    ("kid a list", '{"alg": "EdDSA", "kid": ["ed"]}', "malformed"),
]


@pytest.mark.parametrize(
    ("times", "reason"),
    [pytest.param(times, reason, id=name) for name, times, reason in TIMES],
)
async def test_an_odd_time_is_a_refusal_with_its_event(
    make_store: StoreFactory, times: dict[str, str], reason: str
) -> None:
    store: Store = await make_store()

    status, answer = await store.check_in(qr=signed(store.operator, HEADER, claims_text(**times)))

    assert (status, answer["opened"], answer["outcome"], answer["reason"]) == (
        403,
        False,
        "denied",
        reason,
    )
    assert store.entry.commands == 0
    assert store.bridge.occupancy == 0
    [event] = store.outbox()
    assert (event["type"], event["reason"], event["source"], event["portal"]) == (
        "access_denied",
        reason,
        "store_app",
        "entry_1",
    )
    assert store.bridge.denials == {reason: 1}


@pytest.mark.parametrize(
    ("header", "reason"),
    [pytest.param(header, reason, id=name) for name, header, reason in HEADERS],
)
async def test_an_odd_header_is_a_refusal_with_its_event(
    make_store: StoreFactory, header: str, reason: str
) -> None:
    store: Store = await make_store()

    status, answer = await store.check_in(qr=signed(store.operator, header, claims_text()))

    assert (status, answer["reason"]) == (403, reason)
    assert store.entry.commands == 0
    assert [(e["type"], e["reason"]) for e in store.outbox()] == [("access_denied", reason)]


async def test_the_same_code_with_plain_times_opens(make_store: StoreFactory) -> None:
    """The control: the hand-made code above is good when its times are."""
    store: Store = await make_store()
    status, answer = await store.check_in(qr=signed(store.operator, HEADER, claims_text()))
    assert (status, answer["opened"]) == (200, True)
    # a fractional time is a time too
    later = claims_text(iat=f"{time.time():.3f}", exp=f"{time.time() + 30:.3f}")
    status, answer = await store.check_in(qr=signed(store.operator, HEADER, later))
    assert (status, answer["opened"]) == (200, True)


# --- any JSON at all: a decision, never an exception ---------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
NAMES = st.sampled_from(["iss", "aud", "sub", "jti", "iat", "exp", "party", "nbf", "alg", "kid"])


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(
    header_changes=st.dictionaries(
        st.sampled_from(["alg", "kid", "typ", "crit", "b64"]), JSON_VALUES, max_size=2
    ),
    claim_changes=st.dictionaries(NAMES, JSON_VALUES, max_size=3),
)
def test_any_signed_json_is_decided(
    operator: Operator, header_changes: dict[str, Any], claim_changes: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": SITE,
        "sub": "acct-1",
        "jti": "j1",
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 30,
        **claim_changes,
    }
    header = json.dumps({"alg": "EdDSA", "kid": "ed", **header_changes})
    token = signed(operator, header, json.dumps(claims))
    try:
        checked = verify_qr(token, keys=operator.keys, issuer=ISSUER, site=SITE, now=now)
    except CredentialRejected:
        return
    assert isinstance(checked, QrCheckIn)
    assert checked.expires >= now
