"""From Python: sessions bound to a client id and/or a DPoP key (RFC 9449).

Proofs are signed here with PyJWT and `cryptography` (dpop_support), so the engine is checked
against an independent JOSE implementation. The engine runs on a manual clock; every proof's
`iat` is the engine's now unless a test says otherwise."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import keyfob
import pytest
from dpop_support import DpopKey, access_token_hash
from engine_support import SECRET, segments

TOKEN_URL = "https://api.example.com/api/token/"
REFRESH_URL = "https://api.example.com/api/token/refresh/"
HELLO_URL = "https://api.example.com/api/hello/"

# RFC 7638 §3.1: the RSA key and its thumbprint.
RFC7638_JWK = (
    '{"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29","n":"0vx7agoebGcQSuuPiLJXZptN9nnd'
    "rQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_"
    "2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgd"
    "AZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0"
    'Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}'
)
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.fixture(params=["ES256", "EdDSA"])
def key(request: pytest.FixtureRequest) -> DpopKey:
    return DpopKey(request.param)


def dpop(
    engine: keyfob.Engine, key: DpopKey, method: str, url: str, **claims: object
) -> keyfob.DpopRequest:
    """A fresh proof by `key` for `method url`, as the server received that request."""
    iat = claims.pop("iat", engine.now())
    assert isinstance(iat, int)
    return keyfob.DpopRequest(key.proof(method, url, iat=iat, **claims), method, url)  # type: ignore[arg-type]


def dpop_login(engine: keyfob.Engine, key: DpopKey) -> keyfob.TokenPair:
    return engine.login("alice", dpop=dpop(engine, key, "POST", TOKEN_URL))


def dpop_refresh(engine: keyfob.Engine, key: DpopKey, refresh: str | None) -> keyfob.TokenPair:
    assert refresh is not None
    return engine.refresh(refresh, dpop=dpop(engine, key, "POST", REFRESH_URL))


# -- thumbprints and the request object ------------------------------------------------------


def test_rfc7638_thumbprint_example() -> None:
    assert keyfob.jwk_thumbprint(RFC7638_JWK) == RFC7638_THUMBPRINT
    import json

    assert keyfob.jwk_thumbprint(json.loads(RFC7638_JWK)) == RFC7638_THUMBPRINT


def test_rfc8037_ed25519_thumbprint_example() -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert keyfob.jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_thumbprint_of_generated_keys_matches_an_independent_computation(key: DpopKey) -> None:
    assert keyfob.jwk_thumbprint(key.jwk) == key.thumbprint


def test_thumbprint_refuses_what_is_not_a_jwk() -> None:
    with pytest.raises(keyfob.InvalidArgumentError):
        keyfob.jwk_thumbprint("not json")
    with pytest.raises(keyfob.InvalidArgumentError):
        keyfob.jwk_thumbprint({"kty": "oct", "k": "c2VjcmV0"})
    with pytest.raises(TypeError, match="jwk must be str or dict"):
        keyfob.jwk_thumbprint(42)  # type: ignore[arg-type]


def test_dpop_request_is_an_immutable_value() -> None:
    request = keyfob.DpopRequest("aaaaaaaaaaaaaaaaaaaa.b.c", "GET", HELLO_URL)
    assert (request.proof, request.method, request.url) == (
        "aaaaaaaaaaaaaaaaaaaa.b.c",
        "GET",
        HELLO_URL,
    )
    same = keyfob.DpopRequest(proof="aaaaaaaaaaaaaaaaaaaa.b.c", method="GET", url=HELLO_URL)
    assert request == same and hash(request) == hash(same)
    assert request != keyfob.DpopRequest("aaaaaaaaaaaaaaaaaaaa.b.c", "POST", HELLO_URL)
    # repr shows enough to tell proofs apart, not the whole proof.
    assert repr(request) == f"DpopRequest(proof='aaaaaaaaaaaa…', method='GET', url='{HELLO_URL}')"
    with pytest.raises(AttributeError):
        request.proof = "x"  # type: ignore[misc]
    with pytest.raises(TypeError, match="method must be str"):
        keyfob.DpopRequest("a.b.c", b"GET", HELLO_URL)  # type: ignore[arg-type]


# -- the unbound flow is unchanged -----------------------------------------------------------


def test_unbound_sessions_behave_as_before(engine: keyfob.Engine, key: DpopKey) -> None:
    pair = engine.login("alice")
    assert "cnf" not in engine.validate(pair.access)
    assert "cnf" not in segments(pair.refresh or "")[1]
    # A proof or a client id sent with an unbound session's token is ignored.
    assert (
        engine.validate(pair.access, dpop=dpop(engine, key, "GET", HELLO_URL))["user_id"] == "alice"
    )
    assert engine.validate(pair.access, client_id="whoever")["user_id"] == "alice"
    nxt = engine.refresh(
        pair.refresh or "", client_id="whoever", dpop=dpop(engine, key, "POST", REFRESH_URL)
    )
    nxt = engine.refresh(nxt.refresh or "")
    assert engine.validate(nxt.access)["user_id"] == "alice"
    # Reuse detection as before.
    with pytest.raises(keyfob.ReuseDetectedError):
        engine.refresh(pair.refresh or "")


def test_none_is_the_same_as_not_given(engine: keyfob.Engine) -> None:
    pair = engine.login("alice", None, client_id=None, dpop=None)
    assert engine.refresh(pair.refresh or "", client_id=None, dpop=None).refresh


# -- DPoP: a bound session -------------------------------------------------------------------


def test_dpop_login_binds_every_token_to_the_key(engine: keyfob.Engine, key: DpopKey) -> None:
    pair = dpop_login(engine, key)
    cnf = {"jkt": key.thumbprint}
    assert segments(pair.access)[1]["cnf"] == cnf
    assert segments(pair.refresh or "")[1]["cnf"] == cnf
    claims = engine.validate(
        pair.access, dpop=dpop(engine, key, "GET", HELLO_URL, access=pair.access)
    )
    assert claims["cnf"] == cnf and claims["user_id"] == "alice"

    nxt = dpop_refresh(engine, key, pair.refresh)
    assert segments(nxt.access)[1]["cnf"] == cnf
    assert segments(nxt.refresh or "")[1]["cnf"] == cnf
    assert engine.validate(nxt.access, dpop=dpop(engine, key, "GET", HELLO_URL, access=nxt.access))
    # verify and revoke (logout) need no proof.
    assert engine.verify(nxt.refresh or "")["cnf"] == cnf
    engine.revoke(nxt.refresh or "")
    with pytest.raises(keyfob.RevokedError):
        engine.verify(nxt.access)


def test_login_proof_must_cover_the_login_request(engine: keyfob.Engine, key: DpopKey) -> None:
    proof = key.proof("POST", TOKEN_URL, iat=engine.now())
    with pytest.raises(keyfob.DpopInvalidError, match="htu"):
        engine.login("alice", dpop=keyfob.DpopRequest(proof, "POST", REFRESH_URL))
    with pytest.raises(keyfob.DpopInvalidError, match="htm"):
        engine.login("alice", dpop=keyfob.DpopRequest(proof, "PUT", TOKEN_URL))
    with pytest.raises(keyfob.DpopInvalidError, match="typ"):
        engine.login(
            "alice",
            dpop=keyfob.DpopRequest(
                key.proof("POST", TOKEN_URL, iat=engine.now(), header={"typ": "JWT"}),
                "POST",
                TOKEN_URL,
            ),
        )
    with pytest.raises(keyfob.InvalidArgumentError):
        engine.login("alice", {"cnf": {"jkt": "mine"}}, dpop=dpop(engine, key, "POST", TOKEN_URL))
    assert engine.stats()["sessions"] == 0


# -- a stolen refresh token ------------------------------------------------------------------

Theft = Callable[[keyfob.Engine, str, DpopKey], object]


def without_key(engine: keyfob.Engine, refresh: str, key: DpopKey) -> object:
    return engine.refresh(refresh)


def with_another_key(engine: keyfob.Engine, refresh: str, key: DpopKey) -> object:
    return dpop_refresh(engine, DpopKey(key.alg), refresh)


def with_a_proof_for_another_url(engine: keyfob.Engine, refresh: str, key: DpopKey) -> object:
    # A proof the client made for a resource request, overheard by the thief.
    proof = key.proof("POST", HELLO_URL, iat=engine.now())
    return engine.refresh(refresh, dpop=keyfob.DpopRequest(proof, "POST", REFRESH_URL))


def with_a_proof_for_another_method(engine: keyfob.Engine, refresh: str, key: DpopKey) -> object:
    proof = key.proof("GET", REFRESH_URL, iat=engine.now())
    return engine.refresh(refresh, dpop=keyfob.DpopRequest(proof, "POST", REFRESH_URL))


def with_a_stale_proof(engine: keyfob.Engine, refresh: str, key: DpopKey) -> object:
    proof = key.proof("POST", REFRESH_URL, iat=engine.now() - 61)
    return engine.refresh(refresh, dpop=keyfob.DpopRequest(proof, "POST", REFRESH_URL))


def with_a_proof_from_the_future(engine: keyfob.Engine, refresh: str, key: DpopKey) -> object:
    proof = key.proof("POST", REFRESH_URL, iat=engine.now() + 61)
    return engine.refresh(refresh, dpop=keyfob.DpopRequest(proof, "POST", REFRESH_URL))


def with_a_tampered_proof(engine: keyfob.Engine, refresh: str, key: DpopKey) -> object:
    header, payload, signature = key.proof("POST", REFRESH_URL, iat=engine.now()).split(".")
    forged = key.proof("POST", REFRESH_URL, iat=engine.now(), jti="forged").split(".")[1]
    return engine.refresh(
        refresh, dpop=keyfob.DpopRequest(f"{header}.{forged}.{signature}", "POST", REFRESH_URL)
    )


@pytest.mark.parametrize(
    "theft",
    [
        without_key,
        with_another_key,
        with_a_proof_for_another_url,
        with_a_proof_for_another_method,
        with_a_stale_proof,
        with_a_proof_from_the_future,
        with_a_tampered_proof,
    ],
)
def test_a_stolen_refresh_token_is_useless_without_the_key(
    engine: keyfob.Engine, key: DpopKey, theft: Theft
) -> None:
    pair = dpop_login(engine, key)
    with pytest.raises(keyfob.DpopInvalidError):
        theft(engine, pair.refresh or "", key)
    # The attempt neither revoked nor rotated anything: the rightful client carries on.
    nxt = dpop_refresh(engine, key, pair.refresh)
    assert engine.validate(nxt.access, dpop=dpop(engine, key, "GET", HELLO_URL, access=nxt.access))


def test_a_replayed_refresh_proof_is_refused(engine: keyfob.Engine, key: DpopKey) -> None:
    pair = dpop_login(engine, key)
    overheard = dpop(engine, key, "POST", REFRESH_URL)
    nxt = engine.refresh(pair.refresh or "", dpop=overheard)
    # The thief has the new refresh token and the proof that came with the last refresh.
    with pytest.raises(keyfob.DpopReplayedError):
        engine.refresh(nxt.refresh or "", dpop=overheard)
    assert dpop_refresh(engine, key, nxt.refresh).access


def test_a_replayed_login_proof_is_refused(engine: keyfob.Engine, key: DpopKey) -> None:
    request = dpop(engine, key, "POST", TOKEN_URL)
    engine.login("alice", dpop=request)
    with pytest.raises(keyfob.DpopReplayedError):
        engine.login("alice", dpop=request)


def test_proofs_are_accepted_within_the_configured_iat_window(key: DpopKey) -> None:
    clock = keyfob.ManualClock(1_700_000_000)
    engine = keyfob.Engine(SECRET, clock=clock, dpop_iat_window_s=5)
    pair = dpop_login(engine, key)
    proof = key.proof("POST", REFRESH_URL, iat=engine.now())
    clock.advance(6)
    with pytest.raises(keyfob.DpopInvalidError, match="too old"):
        engine.refresh(pair.refresh or "", dpop=keyfob.DpopRequest(proof, "POST", REFRESH_URL))
    late = key.proof("POST", REFRESH_URL, iat=engine.now() - 5)
    assert engine.refresh(pair.refresh or "", dpop=keyfob.DpopRequest(late, "POST", REFRESH_URL))


def test_an_old_refresh_token_is_reuse_even_with_a_good_proof(
    engine: keyfob.Engine, key: DpopKey
) -> None:
    pair = dpop_login(engine, key)
    dpop_refresh(engine, key, pair.refresh)
    with pytest.raises(keyfob.ReuseDetectedError):
        dpop_refresh(engine, key, pair.refresh)


# -- DPoP: resource requests -----------------------------------------------------------------


def test_a_bound_access_token_needs_a_proof_with_its_hash(
    engine: keyfob.Engine, key: DpopKey
) -> None:
    pair = dpop_login(engine, key)
    access = pair.access
    with pytest.raises(keyfob.DpopInvalidError, match="proof is required"):
        engine.validate(access)  # as a stolen Bearer token
    with pytest.raises(keyfob.DpopInvalidError, match="no ath"):
        engine.validate(access, dpop=dpop(engine, key, "GET", HELLO_URL))
    with pytest.raises(keyfob.DpopInvalidError, match="ath"):
        engine.validate(
            access, dpop=dpop(engine, key, "GET", HELLO_URL, ath=access_token_hash("x"))
        )
    with pytest.raises(keyfob.DpopInvalidError, match="not the key"):
        engine.validate(access, dpop=dpop(engine, DpopKey(), "GET", HELLO_URL, access=access))
    with pytest.raises(keyfob.DpopInvalidError, match="htu"):
        engine.validate(
            access,
            dpop=keyfob.DpopRequest(
                key.proof("GET", HELLO_URL, iat=engine.now(), access=access),
                "GET",
                "https://api.example.com/api/other/",
            ),
        )
    good = dpop(engine, key, "GET", HELLO_URL, access=access)
    assert engine.validate(access, dpop=good)["user_id"] == "alice"
    with pytest.raises(keyfob.DpopReplayedError):
        engine.validate(access, dpop=good)


def test_the_request_url_is_compared_as_rfc_9449_says(engine: keyfob.Engine, key: DpopKey) -> None:
    pair = dpop_login(engine, key)
    # The query is ignored; scheme and host are case-insensitive; a default port is none.
    proof = key.proof(
        "GET", "HTTPS://API.example.com:443/api/hello/", iat=engine.now(), access=pair.access
    )
    request = keyfob.DpopRequest(proof, "GET", "https://api.example.com/api/hello/?page=2")
    assert engine.validate(pair.access, dpop=request)["user_id"] == "alice"


def test_caller_mistakes_are_argument_errors(engine: keyfob.Engine, key: DpopKey) -> None:
    proof = key.proof("POST", "/api/token/", iat=engine.now())
    with pytest.raises(keyfob.InvalidArgumentError, match="not absolute"):
        engine.login("alice", dpop=keyfob.DpopRequest(proof, "POST", "/api/token/"))
    with pytest.raises(TypeError, match="dpop must be keyfob.DpopRequest"):
        engine.login("alice", dpop=proof)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        engine.login("alice", None, "client")  # type: ignore[call-arg]


# -- client-id binding -----------------------------------------------------------------------


def test_a_client_bound_refresh_needs_the_same_client_id(engine: keyfob.Engine) -> None:
    pair = engine.login("alice", client_id="mobile-app")
    nxt = engine.refresh(pair.refresh or "", client_id="mobile-app")
    # validate does not ask for it unless bind_validate is set.
    assert engine.validate(nxt.access)["user_id"] == "alice"
    assert "cnf" not in segments(nxt.access)[1]  # only a hash in the session, nothing in tokens
    with pytest.raises(keyfob.ClientMismatchError):
        engine.refresh(nxt.refresh or "", client_id="web-app")
    # A mismatch means the token leaked: the session is revoked (client_mismatch_revokes).
    with pytest.raises(keyfob.RevokedError):
        engine.refresh(nxt.refresh or "", client_id="mobile-app")
    with pytest.raises(keyfob.RevokedError):
        engine.validate(nxt.access)


def test_a_refresh_without_the_client_id_is_a_mismatch(engine: keyfob.Engine) -> None:
    pair = engine.login("alice", client_id="mobile-app")
    with pytest.raises(keyfob.ClientMismatchError) as caught:
        engine.refresh(pair.refresh or "")
    assert (caught.value.code, caught.value.name) == (21, "client_mismatch")
    assert pickle.loads(pickle.dumps(caught.value)).args == caught.value.args


def test_a_mismatch_may_only_refuse(manual_clock: keyfob.ManualClock) -> None:
    engine = keyfob.Engine(SECRET, clock=manual_clock, client_mismatch_revokes=False)
    pair = engine.login("alice", client_id="mobile-app")
    with pytest.raises(keyfob.ClientMismatchError):
        engine.refresh(pair.refresh or "", client_id="web-app")
    assert engine.refresh(pair.refresh or "", client_id="mobile-app").access


def test_bind_validate_asks_for_the_client_id_on_every_request(
    manual_clock: keyfob.ManualClock,
) -> None:
    engine = keyfob.Engine(
        SECRET, clock=manual_clock, bind_validate=True, client_mismatch_revokes=False
    )
    pair = engine.login("alice", client_id="device-7")
    assert engine.validate(pair.access, client_id="device-7")["user_id"] == "alice"
    with pytest.raises(keyfob.ClientMismatchError):
        engine.validate(pair.access)
    with pytest.raises(keyfob.ClientMismatchError):
        engine.validate(pair.access, client_id="device-8")
    # Unbound sessions still need nothing.
    assert engine.validate(engine.login("bob").access)["user_id"] == "bob"


def test_client_id_values_are_checked(engine: keyfob.Engine) -> None:
    with pytest.raises(keyfob.InvalidArgumentError):
        engine.login("alice", client_id="")
    with pytest.raises(keyfob.InvalidArgumentError):
        engine.login("alice", client_id="x" * 1025)
    with pytest.raises(TypeError, match="client_id must be str"):
        engine.login("alice", client_id=7)  # type: ignore[arg-type]
    assert engine.stats()["sessions"] == 0


def test_both_bindings_together(engine: keyfob.Engine, key: DpopKey) -> None:
    pair = engine.login("alice", client_id="spa", dpop=dpop(engine, key, "POST", TOKEN_URL))
    with pytest.raises(keyfob.DpopInvalidError):
        engine.refresh(pair.refresh or "", client_id="spa")
    nxt = engine.refresh(
        pair.refresh or "", client_id="spa", dpop=dpop(engine, key, "POST", REFRESH_URL)
    )
    with pytest.raises(keyfob.ClientMismatchError):
        engine.refresh(nxt.refresh or "", dpop=dpop(engine, key, "POST", REFRESH_URL))
