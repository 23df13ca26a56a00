"""Vertex AI with a project and location: a service account's token from google-auth, signed
for at a (fake) token endpoint, sent as a bearer token to the project's regional endpoint."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_httpserver import HTTPServer

from gateway import ErrorKind, Gateway, GatewayError, ImageRequest
from gateway.providers import VertexProjectProvider, VertexProvider
from tests.gateway.conftest import MakeGateway, catalog
from tests.gateway.fakes import IMAGE, FakeVertexProject, fails

MODEL = "gemini-3.1-flash-lite-image"
CATALOG = catalog("banana", {"provider": "vertex", "provider_model": MODEL, "price": "0.0336"})


@pytest.fixture(scope="session")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def vertex(
    httpserver: HTTPServer, release: threading.Event, private_key: rsa.RSAPrivateKey
) -> FakeVertexProject:
    public = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return FakeVertexProject(httpserver, release, public)


@pytest.fixture
def account_file(
    tmp_path: Path, private_key: rsa.RSAPrivateKey, vertex: FakeVertexProject
) -> Path:
    """A service-account key file as the Cloud console makes it, its token URI the fake's."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "arena-prod",
                "private_key_id": "0123456789abcdef",
                "private_key": pem,
                "client_email": "arena@arena-prod.iam.gserviceaccount.com",
                "client_id": "100000000000000000001",
                "token_uri": vertex.token_uri,
            }
        )
    )
    return path


def env(vertex: FakeVertexProject, account_file: Path) -> dict[str, str]:
    return {
        "VERTEX_PROJECT": "arena-prod",
        "VERTEX_LOCATION": "us-central1",
        "GOOGLE_APPLICATION_CREDENTIALS": str(account_file),
        "VERTEX_BASE_URL": vertex.url,
    }


def provider_of(gateway: Gateway) -> VertexProjectProvider:
    provider = gateway.providers["vertex"]
    assert isinstance(provider, VertexProjectProvider)
    return provider


def test_a_call_goes_to_the_projects_endpoint_with_the_service_accounts_token(
    vertex: FakeVertexProject, account_file: Path, make_gateway: MakeGateway
) -> None:
    vertex.on(vertex.path(MODEL), vertex.image(MODEL))
    gateway = make_gateway(env(vertex, account_file), catalog=CATALOG)

    result = gateway.generate(ImageRequest(model="banana", prompt="a red cube"))

    assert result.images == [IMAGE]
    (sent,) = vertex.seen(vertex.path(MODEL))
    assert sent.headers["Authorization"] == f"Bearer {vertex.issued[0]}"
    assert "x-goog-api-key" not in sent.headers
    assert sent.get_json()["contents"][0]["parts"] == [{"text": "a red cube"}]
    (claims,) = vertex.assertions  # the JWT checked against the account's public key
    assert claims["iss"] == "arena@arena-prod.iam.gserviceaccount.com"
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"


def test_a_valid_token_serves_every_call(
    vertex: FakeVertexProject, account_file: Path, make_gateway: MakeGateway
) -> None:
    vertex.on(vertex.path(MODEL), vertex.image(MODEL))
    gateway = make_gateway(env(vertex, account_file), catalog=CATALOG)

    gateway.generate(ImageRequest(model="banana", prompt="x", n=1))
    gateway.generate(ImageRequest(model="banana", prompt="y", n=1))

    assert len(vertex.seen(FakeVertexProject.TOKEN_PATH)) == 1


def test_an_expired_token_is_refreshed_before_the_call(
    vertex: FakeVertexProject, account_file: Path, make_gateway: MakeGateway
) -> None:
    vertex.on(vertex.path(MODEL), vertex.image(MODEL))
    gateway = make_gateway(env(vertex, account_file), catalog=CATALOG)
    gateway.generate(ImageRequest(model="banana", prompt="x"))
    # google-auth keeps expiry as a naive UTC datetime
    provider_of(gateway).credentials.expiry = (datetime.now(UTC) - timedelta(seconds=1)).replace(
        tzinfo=None
    )

    gateway.generate(ImageRequest(model="banana", prompt="y"))

    assert len(vertex.issued) == 2
    last = vertex.seen(vertex.path(MODEL))[-1]
    assert last.headers["Authorization"] == f"Bearer {vertex.issued[1]}"


def test_a_token_refused_by_vertex_is_replaced_on_the_next_call(
    vertex: FakeVertexProject, account_file: Path, make_gateway: MakeGateway
) -> None:
    vertex.once(vertex.path(MODEL), fails("vertex/error_unauthenticated", 401))
    vertex.on(vertex.path(MODEL), vertex.image(MODEL))
    gateway = make_gateway(env(vertex, account_file), catalog=CATALOG)
    with pytest.raises(GatewayError) as raised:
        gateway.generate(ImageRequest(model="banana", prompt="x"))
    assert raised.value.kind is ErrorKind.AUTH

    gateway.generate(ImageRequest(model="banana", prompt="y"))

    assert len(vertex.issued) == 2


def test_a_token_endpoint_that_refuses_the_account_is_an_auth_error_and_no_call(
    vertex: FakeVertexProject, account_file: Path, make_gateway: MakeGateway, tmp_path: Path
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info = json.loads(account_file.read_text())
    info["private_key"] = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account_file.write_text(json.dumps(info))  # signed with a key the account does not have
    vertex.on(vertex.path(MODEL), vertex.image(MODEL))
    gateway = make_gateway(env(vertex, account_file), catalog=CATALOG)

    with pytest.raises(GatewayError) as raised:
        gateway.generate(ImageRequest(model="banana", prompt="x"))

    assert raised.value.kind is ErrorKind.AUTH
    assert "invalid_grant" in raised.value.message
    assert vertex.seen(vertex.path(MODEL)) == []


def test_the_default_endpoint_is_the_locations_own_and_global_has_no_prefix(
    account_file: Path,
) -> None:
    base = {"VERTEX_PROJECT": "p1", "GOOGLE_APPLICATION_CREDENTIALS": str(account_file)}
    with Gateway(environ={**base, "VERTEX_LOCATION": "europe-west4"}) as gateway:
        assert provider_of(gateway).endpoint("m") == (
            "https://europe-west4-aiplatform.googleapis.com/v1/projects/p1/locations/"
            "europe-west4/publishers/google/models/m:generateContent"
        )
    with Gateway(environ=base) as gateway:
        assert provider_of(gateway).endpoint("m") == (
            "https://aiplatform.googleapis.com/v1/projects/p1/locations/global/publishers/"
            "google/models/m:generateContent"
        )


def test_a_project_takes_the_place_of_express_mode(account_file: Path) -> None:
    with Gateway(environ={"VERTEX_API_KEY": "v"}) as gateway:
        assert type(gateway.providers["vertex"]) is VertexProvider
    environ = {
        "VERTEX_API_KEY": "v",
        "VERTEX_PROJECT": "p1",
        "GOOGLE_APPLICATION_CREDENTIALS": str(account_file),
    }
    with Gateway(environ=environ) as gateway:
        assert isinstance(gateway.providers["vertex"], VertexProjectProvider)


def test_a_project_without_credentials_says_what_is_missing() -> None:
    with pytest.raises(ValueError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        Gateway(environ={"VERTEX_PROJECT": "p1"})
