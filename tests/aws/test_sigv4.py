"""SigV4 verification: AWS's published test vectors, round trips with botocore's own
signers, clock skew, session tokens, and `aws eks get-token` tokens."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import botocore.auth
import botocore.session
import pytest
from awscli.customizations.eks.get_token import STSClientFactory, TokenGenerator
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence

from openeks.aws import sigv4
from openeks.aws.errors import AuthProblem
from openeks.aws.sigv4 import Credential, SigV4Error
from openeks.aws.wire import Request

# The AWS Signature Version 4 test suite (aws-signing-test-suite/v4, the header-signed
# requests): service "service", region us-east-1, 2015-08-30T12:36:00Z.
SUITE_TIME = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
SUITE_KEY = Credential(
    access_key_id="AKIDEXAMPLE",
    secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    account_id="111122223333",
    arn="arn:aws:iam::111122223333:user/example",
)
SUITE_TOKEN = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
SUITE_VECTORS = [
    # (name, path, query, extra headers, signed headers, signature)
    ("get-vanilla", "/", "", [], "host;x-amz-date",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("get-vanilla-query-unreserved", "/",
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
     [], "host;x-amz-date",
     "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
    ("get-vanilla-utf8-query", "/", "ሴ=bar", [], "host;x-amz-date",
     "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
    ("get-utf8", "/ሴ", "", [], "host;x-amz-date",
     "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
    ("get-space-normalized", "/example space/", "", [], "host;x-amz-date",
     "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
    ("get-header-key-duplicate", "/", "",
     [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
     "host;my-header1;x-amz-date",
     "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
    # The suite's folded header lines are separate values of one header.
    ("get-header-value-multiline", "/", "",
     [("My-Header1", "value1"), ("My-Header1", "value2"), ("My-Header1", "value3")],
     "host;my-header1;x-amz-date",
     "ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790"),
    ("get-header-value-trim", "/", "",
     [("My-Header1", " value1"), ("My-Header2", ' "a   b   c"')],
     "host;my-header1;my-header2;x-amz-date",
     "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
    ("get-vanilla-with-session-token", "/", "", [("X-Amz-Security-Token", SUITE_TOKEN)],
     "host;x-amz-date;x-amz-security-token",
     "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"),
]  # fmt: skip


def suite_request(
    path: str, query: str, extra: list[tuple[str, str]], signed: str, sig: str
) -> Request:
    authorization = (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders={signed}, Signature={sig}"
    )
    headers = [
        ("Host", "example.amazonaws.com"),
        *extra,
        ("Authorization", authorization),
        ("X-Amz-Date", "20150830T123600Z"),
    ]
    return Request("GET", path, query, tuple(headers))


def suite_lookup(access_key_id: str) -> Credential | None:
    if access_key_id != SUITE_KEY.access_key_id:
        return None
    return SUITE_KEY


@pytest.mark.parametrize("vector", SUITE_VECTORS, ids=[v[0] for v in SUITE_VECTORS])
def test_the_aws_test_suite_signatures_verify(vector: tuple[Any, ...]) -> None:
    name, path, query, extra, signed, sig = vector
    credential = SUITE_KEY
    if "session-token" in name:
        credential = Credential(**{**SUITE_KEY.__dict__, "session_token": SUITE_TOKEN})
    request = suite_request(path, query, extra, signed, sig)
    verified = sigv4.verify(
        request, lambda _: credential, now=SUITE_TIME, regions=("us-east-1",), service="service"
    )
    assert verified.principal.arn == SUITE_KEY.arn
    assert verified.scope == sigv4.Scope("20150830", "us-east-1", "service")


@pytest.mark.parametrize("vector", SUITE_VECTORS[:5], ids=[v[0] for v in SUITE_VECTORS[:5]])
def test_a_suite_request_with_anything_changed_does_not_verify(vector: tuple[Any, ...]) -> None:
    _, path, query, extra, signed, sig = vector
    tampered = suite_request(path + "x", query, extra, signed, sig)
    with pytest.raises(SigV4Error) as caught:
        sigv4.verify(tampered, suite_lookup, now=SUITE_TIME)
    assert caught.value.problem is AuthProblem.MISMATCH
    assert caught.value.message.startswith(
        "The request signature we calculated does not match the signature you provided."
    )
    assert "The Canonical String for this request should have been" in caught.value.message


# Round trips with botocore's signers.

ALICE = Credential("AKIAROUNDTRIP", "round/trip+secret", "123456789012", "arn:aws:iam::1:user/a")
BOTO_CREDENTIALS = Credentials(ALICE.access_key_id, ALICE.secret_access_key)
SEGMENT_ALPHABET = "abcXYZ019-_.~ %+/:@!$&'()*,;=ሴé"


def random_request(rng: random.Random) -> tuple[str, str, dict[str, str], bytes]:
    segments = [
        "".join(rng.choice(SEGMENT_ALPHABET) for _ in range(rng.randint(1, 8)))
        for _ in range(rng.randint(0, 4))
    ]
    path = "/" + "/".join(quote(segment, safe="-_.~") for segment in segments)
    params = {
        "".join(rng.choice(SEGMENT_ALPHABET) for _ in range(rng.randint(1, 6))): "".join(
            rng.choice(SEGMENT_ALPHABET) for _ in range(rng.randint(0, 6))
        )
        for _ in range(rng.randint(0, 4))
    }
    query = percent_encode_sequence(params)
    url = f"http://127.0.0.1:4566{path}" + (f"?{query}" if query else "")
    headers = {"X-Custom": "  spaced    value  ", "Content-Type": "application/json"}
    body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    method = rng.choice(["GET", "POST", "PUT", "DELETE"])
    return method, url, headers, body


def to_wire(prepared: Any) -> Request:
    """The request as the server receives it: the HTTP client adds the Host header."""
    return Request.from_url(
        prepared.method, prepared.url, list(prepared.headers.items()), prepared.body or b""
    )


def sign_with_botocore(method: str, url: str, headers: dict[str, str], body: bytes) -> Request:
    request = AWSRequest(method=method, url=url, headers=headers, data=body)
    SigV4Auth(BOTO_CREDENTIALS, "eks", "us-east-1").add_auth(request)
    return to_wire(request.prepare())


def test_requests_signed_by_botocore_verify_and_tampering_is_caught() -> None:
    rng = random.Random(20240101)
    now = datetime.now(UTC)
    for _ in range(60):
        method, url, headers, body = random_request(rng)
        request = sign_with_botocore(method, url, headers, body)
        verified = sigv4.verify(request, lambda _: ALICE, now=now, service="eks")
        assert verified.principal.access_key_id == ALICE.access_key_id
        tampered = Request(
            request.method, request.path, request.query, request.headers, request.body + b"!"
        )
        with pytest.raises(SigV4Error) as caught:
            sigv4.verify(tampered, lambda _: ALICE, now=now)
        assert caught.value.problem is AuthProblem.MISMATCH


def test_urls_presigned_by_botocore_verify() -> None:
    rng = random.Random(7)
    now = datetime.now(UTC)
    for _ in range(30):
        method, url, _, _ = random_request(rng)
        request = AWSRequest(method=method, url=url, headers={"X-Custom": "v"}, data=b"")
        SigV4QueryAuth(BOTO_CREDENTIALS, "sts", "us-east-1", expires=300).add_auth(request)
        prepared = request.prepare()
        verified = sigv4.verify_presigned(
            prepared.url, {"X-Custom": "v"}, lambda _: ALICE, now, method=method, service="sts"
        )
        assert verified.presigned
        with pytest.raises(SigV4Error):
            sigv4.verify_presigned(prepared.url, {"X-Custom": "w"}, lambda _: ALICE, now)


def test_declared_payload_hash_must_match_the_body_unless_unsigned() -> None:
    request = AWSRequest(method="POST", url="http://127.0.0.1:4566/x", data=b"body")
    request.context["payload_signing_enabled"] = False
    SigV4Auth(BOTO_CREDENTIALS, "eks", "us-east-1").add_auth(request)
    wire = to_wire(request.prepare())
    assert wire.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD"
    sigv4.verify(wire, lambda _: ALICE, now=datetime.now(UTC))
    forged = Request(
        wire.method,
        wire.path,
        wire.query,
        tuple(
            (name, "0" * 64 if name.lower() == "x-amz-content-sha256" else value)
            for name, value in wire.headers
        ),
        wire.body,
    )
    with pytest.raises(SigV4Error, match="x-amz-content-sha256"):
        sigv4.verify(forged, lambda _: ALICE, now=datetime.now(UTC))


# Time, scope, keys and tokens.

SIGNED_AT = datetime(2024, 1, 1, 0, 0, 0)


@pytest.fixture
def signed_at_fixed_time(monkeypatch: pytest.MonkeyPatch) -> Request:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: SIGNED_AT)
    return sign_with_botocore("GET", "http://127.0.0.1:4566/clusters", {}, b"")


def test_a_request_older_than_15_minutes_has_expired(signed_at_fixed_time: Request) -> None:
    now = SIGNED_AT.replace(tzinfo=UTC) + timedelta(minutes=20)
    with pytest.raises(SigV4Error) as caught:
        sigv4.verify(signed_at_fixed_time, lambda _: ALICE, now=now)
    assert caught.value.problem is AuthProblem.EXPIRED
    assert caught.value.message == (
        "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z "
        "(20240101T002000Z - 15 min.)"
    )
    sigv4.verify(signed_at_fixed_time, lambda _: ALICE, now=now - timedelta(minutes=6))


def test_a_request_from_the_future_is_not_yet_current(signed_at_fixed_time: Request) -> None:
    now = SIGNED_AT.replace(tzinfo=UTC) - timedelta(minutes=16)
    with pytest.raises(SigV4Error) as caught:
        sigv4.verify(signed_at_fixed_time, lambda _: ALICE, now=now)
    assert caught.value.message == (
        "Signature not yet current: 20240101T000000Z is still later than 20231231T235900Z "
        "(20231231T234400Z + 15 min.)"
    )


def test_unknown_keys_wrong_regions_and_services_are_refused(signed_at_fixed_time: Request) -> None:
    now = SIGNED_AT.replace(tzinfo=UTC)
    request = signed_at_fixed_time
    with pytest.raises(SigV4Error) as caught:
        sigv4.verify(request, lambda _: None, now=now)
    assert caught.value.problem is AuthProblem.UNKNOWN_KEY
    assert caught.value.message == "The security token included in the request is invalid."
    with pytest.raises(SigV4Error, match="valid region, not 'us-east-1'"):
        sigv4.verify(request, lambda _: ALICE, now=now, regions=("eu-west-1",))
    with pytest.raises(SigV4Error, match="correct service: 'sts'"):
        sigv4.verify(request, lambda _: ALICE, now=now, service="sts")


def test_temporary_credentials_need_their_token_and_expire() -> None:
    temporary = Credential(**{**ALICE.__dict__, "session_token": "tok", "expiration": None})
    boto = Credentials(ALICE.access_key_id, ALICE.secret_access_key, "tok")
    request = AWSRequest(method="GET", url="http://127.0.0.1:4566/")
    SigV4Auth(boto, "sts", "us-east-1").add_auth(request)
    wire = to_wire(request.prepare())
    now = datetime.now(UTC)
    assert sigv4.verify(wire, lambda _: temporary, now=now).principal.temporary
    with pytest.raises(SigV4Error) as caught:
        sigv4.verify(wire, lambda _: ALICE, now=now)
    assert caught.value.problem is AuthProblem.INVALID_TOKEN
    other = Credential(**{**temporary.__dict__, "session_token": "other"})
    with pytest.raises(SigV4Error):
        sigv4.verify(wire, lambda _: other, now=now)
    expired = Credential(**{**temporary.__dict__, "expiration": now - timedelta(seconds=1)})
    with pytest.raises(SigV4Error) as caught:
        sigv4.verify(wire, lambda _: expired, now=now)
    assert caught.value.problem is AuthProblem.EXPIRED_TOKEN


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/eks/aws4_request",
            "Authorization header requires 'Signature' parameter. "
            "Authorization header requires 'SignedHeaders' parameter.",
        ),
        ("Bearer abc", "Unsupported AWS 'algorithm': 'Bearer'"),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/eks, SignedHeaders=host, Signature=00",
            "Credential must have exactly 5 slash-delimited elements",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/eks/aws4_request, "
            "SignedHeaders=x-amz-date, Signature=00",
            "'Host' or ':authority' must be a 'SignedHeader'",
        ),
    ],
)
def test_unreadable_authorization_headers_are_incomplete(authorization: str, message: str) -> None:
    headers = (("Host", "h"), ("X-Amz-Date", "20240101T000000Z"), ("Authorization", authorization))
    with pytest.raises(SigV4Error) as caught:
        sigv4.parse_auth(Request("GET", "/", "", headers))
    assert caught.value.problem is AuthProblem.INCOMPLETE
    assert message in caught.value.message


def test_an_unsigned_request_has_no_auth_params() -> None:
    assert sigv4.parse_auth(Request("GET", "/", "Action=GetCallerIdentity")) is None
    with pytest.raises(SigV4Error) as caught:
        sigv4.verify(Request("GET", "/"), lambda _: ALICE, now=datetime.now(UTC))
    assert caught.value.problem is AuthProblem.MISSING


# `aws eks get-token`: a presigned STS GetCallerIdentity URL signed with x-k8s-aws-id.


def eks_token(cluster: str) -> str:
    """What `aws eks get-token --cluster-name CLUSTER` prints, made by its own code."""
    session = botocore.session.Session()
    session.set_credentials(ALICE.access_key_id, ALICE.secret_access_key)
    session.set_config_variable("region", "us-east-1")
    factory = STSClientFactory(session)
    client = factory.get_sts_client(region_name="us-east-1")
    return TokenGenerator(client).get_token(cluster)


def url_of(token: str) -> str:
    encoded = token.removeprefix("k8s-aws-v1.")
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


def test_an_eks_token_verifies_for_its_cluster_for_15_minutes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: SIGNED_AT)
    url = url_of(eks_token("prod"))
    assert "X-Amz-Expires=60" in url
    assert "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id" in url
    signed = SIGNED_AT.replace(tzinfo=UTC)
    headers = {"x-k8s-aws-id": "prod"}
    lookup = {ALICE.access_key_id: ALICE}.get
    verified = sigv4.verify_presigned(url, headers, lookup, signed + timedelta(minutes=14))
    assert verified.principal.arn == ALICE.arn
    assert verified.scope.service == "sts"
    with pytest.raises(SigV4Error) as caught:
        sigv4.verify_presigned(url, {"x-k8s-aws-id": "dev"}, lookup, signed)
    assert caught.value.problem is AuthProblem.MISMATCH
    with pytest.raises(SigV4Error) as caught:
        sigv4.verify_presigned(url, headers, lookup, signed + timedelta(minutes=16))
    assert caught.value.problem is AuthProblem.EXPIRED
    with pytest.raises(SigV4Error) as caught:
        sigv4.verify_presigned(url, headers, lookup, signed, service="eks")
    assert caught.value.problem is AuthProblem.MISMATCH


def test_a_date_header_can_stand_in_for_x_amz_date() -> None:
    request = AWSRequest(method="GET", url="http://127.0.0.1:4566/", headers={"Date": "x"})
    SigV4Auth(BOTO_CREDENTIALS, "eks", "us-east-1").add_auth(request)
    wire = to_wire(request.prepare())
    assert wire.header("x-amz-date") is None
    assert sigv4.verify(wire, lambda _: ALICE, now=datetime.now(UTC)).principal == sigv4.Principal(
        ALICE.access_key_id, ALICE.account_id, ALICE.arn, ALICE.user_id
    )
