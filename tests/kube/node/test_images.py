"""Images: references, pulls from a real registry (plain and bearer-token auth), the
store's pull policies and deduplication, archive import, and layer application."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from openeks.kube.node.images.archive import ArchiveError, import_archive, import_image
from openeks.kube.node.images.layers import apply_layer
from openeks.kube.node.images.reference import InvalidReference, parse_reference
from openeks.kube.node.images.registry import choose_platform, host_platform, parse_challenge
from openeks.kube.node.images.store import ImageStore
from openeks.kube.node.runtime.base import ImagePullError, RuntimeFailure
from tests.support.registry import (
    LocalRegistry,
    build_busybox_image,
    busybox_layer,
    oci_archive,
    push,
    tools_available,
)

needs_tools = pytest.mark.skipif(
    not tools_available(), reason="needs docker-registry, skopeo and /bin/busybox"
)
CREDS = {"username": "alice", "password": "wonderland"}


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_busybox_image(tmp_path_factory.mktemp("layout") / "busybox")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, layout: Path) -> Iterator[LocalRegistry]:
    if not tools_available():
        pytest.skip("needs docker-registry, skopeo and /bin/busybox")
    with LocalRegistry(tmp_path_factory.mktemp("registry")) as running:
        push(layout, running, "busybox:latest")
        yield running


@pytest.fixture(scope="module")
def token_registry(
    tmp_path_factory: pytest.TempPathFactory, layout: Path
) -> Iterator[LocalRegistry]:
    if not tools_available():
        pytest.skip("needs docker-registry, skopeo and /bin/busybox")
    with LocalRegistry(tmp_path_factory.mktemp("token-registry"), token_auth=True) as running:
        push(layout, running, "private/busybox:1.36", creds=("alice", "wonderland"))
        yield running


# -- references ---------------------------------------------------------------------------


def test_short_names_are_docker_hub_library_images_with_the_latest_tag() -> None:
    ref = parse_reference("busybox")
    assert str(ref) == "docker.io/library/busybox:latest"
    assert ref.endpoint == "https://registry-1.docker.io"
    assert str(parse_reference("bitnami/redis:7")) == "docker.io/bitnami/redis:7"


def test_a_first_component_with_a_port_names_a_registry_spoken_to_over_http() -> None:
    ref = parse_reference("127.0.0.1:5000/busybox:1.36")
    assert (ref.domain, ref.path, ref.tag) == ("127.0.0.1:5000", "busybox", "1.36")
    assert ref.endpoint == "http://127.0.0.1:5000"
    assert parse_reference("localhost:5000/a/b").endpoint == "http://localhost:5000"
    assert parse_reference("registry.example.com/app").endpoint == "https://registry.example.com"


def test_digest_references_pull_by_digest() -> None:
    digest = "sha256:" + "a" * 64
    ref = parse_reference(f"host.example/repo@{digest}")
    assert ref.pull_ref == digest and ref.tag == ""
    assert str(ref) == f"host.example/repo@{digest}"


@pytest.mark.parametrize("bad", ["library/UPPER", "busybox:", "a//b", "busybox@sha256:xyz", ""])
def test_malformed_references_are_invalid_image_names(bad: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_reference(bad)
    assert caught.value.reason == "InvalidImageName"


def test_bearer_challenges_are_parsed_with_quoted_commas() -> None:
    scheme, params = parse_challenge(
        'Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull,push"'
    )
    assert scheme == "bearer"
    assert params == {
        "realm": "https://auth.example/token",
        "service": "reg",
        "scope": "repository:a:pull,push",
    }


def test_the_host_platform_is_picked_from_an_index() -> None:
    index = {
        "manifests": [
            {"digest": "sha256:arm", "platform": {"os": "linux", "architecture": "arm64"}},
            {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": "sha256:att", "platform": {"os": "unknown", "architecture": "unknown"}},
        ]
    }
    assert choose_platform(index, "amd64")["digest"] == "sha256:amd"
    assert choose_platform(index, "arm64", "v8")["digest"] == "sha256:arm"


# -- pulling ------------------------------------------------------------------------------


@needs_tools
async def test_pull_by_tag_stores_and_unpacks_the_image(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    store = ImageStore(tmp_path / "images")
    try:
        image = await store.pull(f"{registry.host}/busybox:latest", "IfNotPresent")
        info = image.info()
        assert info.ref == f"{registry.host}/busybox@{registry.pushed['busybox:latest']}"
        assert info.id.startswith("sha256:") and info.cmd == ["sh"]
        assert any(item.startswith("PATH=") for item in info.env)
        rootfs = store.rootfs_path(image.config_digest)
        assert (rootfs / "bin" / "busybox").stat().st_mode & 0o111
        assert os.readlink(rootfs / "bin" / "sh") == "busybox"
        assert (rootfs / "tmp").stat().st_mode & 0o7777 == 0o1777
        assert store.lookup(f"{registry.host}/busybox") == image
    finally:
        await store.close()


@needs_tools
async def test_pull_by_digest_resolves_the_same_image(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    digest = registry.pushed["busybox:latest"]
    store = ImageStore(tmp_path / "images")
    try:
        by_digest = await store.pull(f"{registry.host}/busybox@{digest}", "IfNotPresent")
        by_tag = await store.pull(f"{registry.host}/busybox:latest", "IfNotPresent")
        assert by_digest.config_digest == by_tag.config_digest
        assert by_digest.info().ref.endswith(digest)
    finally:
        await store.close()


@needs_tools
async def test_a_multi_platform_image_resolves_to_this_host_s_platform(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    arch = host_platform()[0]
    layout = build_busybox_image(tmp_path / "layout", platforms=("s390x", arch))
    index_digest = push(layout, registry, "multi:1")
    store = ImageStore(tmp_path / "images")
    try:
        image = await store.pull(f"{registry.host}/multi:1", "IfNotPresent")
        assert f"IMAGE_ARCH={arch}" in image.config.env
        assert image.digest == index_digest != image.manifest_digest
        assert image.info().ref == f"{registry.host}/multi@{index_digest}"
    finally:
        await store.close()


@needs_tools
async def test_a_missing_image_fails_with_the_registry_s_reason(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    store = ImageStore(tmp_path / "images")
    try:
        ref = f"{registry.host}/nosuch:1.0"
        with pytest.raises(ImagePullError) as caught:
            await store.pull(ref, "IfNotPresent")
        assert caught.value.reason == "ErrImagePull"
        assert caught.value.message.startswith(
            f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": '
            f"{ref}: not found"
        )
        assert "MANIFEST_UNKNOWN" in caught.value.message or "NAME_UNKNOWN" in caught.value.message
        with pytest.raises(ImagePullError, match="busybox:nosuchtag: not found"):
            await store.pull(f"{registry.host}/busybox:nosuchtag", "Always")
    finally:
        await store.close()


async def test_pull_policy_never_fails_for_an_absent_image(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images")
    with pytest.raises(RuntimeFailure) as caught:
        await store.pull("127.0.0.1:1/busybox:latest", "Never")
    assert caught.value.reason == "ErrImageNeverPull"
    assert "is not present with pull policy of Never" in caught.value.message


async def test_an_unreachable_registry_is_an_image_pull_error(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images")
    try:
        with pytest.raises(ImagePullError, match="failed to do request: Get"):
            await store.pull("127.0.0.1:1/busybox:latest", "Always")
    finally:
        await store.close()


@needs_tools
async def test_concurrent_pulls_of_one_image_download_each_blob_once(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    store = ImageStore(tmp_path / "images")
    downloads: list[str] = []
    fetch = store.registry.fetch_blob

    async def counting(ref, digest, dest, creds=None):  # type: ignore[no-untyped-def]
        downloads.append(digest)
        return await fetch(ref, digest, dest, creds)

    store.registry.fetch_blob = counting  # type: ignore[method-assign]
    try:
        images = await asyncio.gather(
            *(store.pull(f"{registry.host}/busybox:latest", "Always") for _ in range(5))
        )
        assert len({image.config_digest for image in images}) == 1
        assert len(downloads) == len(set(downloads)) == 2  # config + one layer
        await store.pull(f"{registry.host}/busybox:latest", "IfNotPresent")
        assert len(downloads) == 2
    finally:
        await store.close()


@needs_tools
async def test_bearer_token_auth_with_credentials(
    token_registry: LocalRegistry, tmp_path: Path
) -> None:
    store = ImageStore(tmp_path / "images")
    ref = f"{token_registry.host}/private/busybox:1.36"
    try:
        image = await store.pull(ref, "IfNotPresent", CREDS)
        assert image.config.cmd == ["sh"]
        scopes = [r["scope"] for r in token_registry.token_requests if r["user"] == "alice"]
        assert ["repository:private/busybox:pull"] in scopes
    finally:
        await store.close()


@needs_tools
async def test_bearer_token_auth_without_or_with_bad_credentials_is_denied(
    token_registry: LocalRegistry, tmp_path: Path
) -> None:
    store = ImageStore(tmp_path / "images")
    ref = f"{token_registry.host}/private/busybox:1.36"
    try:
        with pytest.raises(ImagePullError) as anonymous:
            await store.pull(ref, "Always")
        assert "pull access denied, repository does not exist or may require authorization" in (
            anonymous.value.message
        )
        assert "server message: UNAUTHORIZED" in anonymous.value.message
        bad = {"username": "alice", "password": "wrong"}
        with pytest.raises(ImagePullError) as refused:
            await store.pull(ref, "Always", bad)
        assert "failed to authorize: failed to fetch oauth token" in refused.value.message
        assert "401" in refused.value.message
    finally:
        await store.close()


# -- the store on disk --------------------------------------------------------------------


def test_work_left_by_a_dead_process_is_removed(tmp_path: Path) -> None:
    ImageStore(tmp_path / "images")
    leftover = tmp_path / "images" / "tmp" / "999999999-dead"
    leftover.mkdir()
    (leftover / "half-written").write_bytes(b"x")
    ours = tmp_path / "images" / "tmp" / f"{os.getpid()}-live"
    ours.write_bytes(b"y")
    ImageStore(tmp_path / "images")
    assert not leftover.exists() and ours.exists()


# -- archives -----------------------------------------------------------------------------


async def test_importing_an_oci_archive_names_images_from_annotations(
    tmp_path: Path,
) -> None:
    layout = build_busybox_image(tmp_path / "layout", tag="example.com/tools/busybox:1.0")
    archive = oci_archive(layout, tmp_path / "busybox.tar")
    refs = await import_image(tmp_path / "node", archive)
    assert refs == ["example.com/tools/busybox:1.0"]
    store = ImageStore(tmp_path / "node" / "images")
    image = store.lookup("example.com/tools/busybox:1.0")
    assert image is not None and image.config.cmd == ["sh"]
    assert (store.rootfs_path(image.config_digest) / "bin" / "busybox").exists()


async def test_importing_a_multi_platform_archive_picks_this_host_s_platform(
    tmp_path: Path,
) -> None:
    arch = host_platform()[0]
    platforms = (arch, "ppc64le")
    layout = build_busybox_image(tmp_path / "l", tag="example.com/multi:2", platforms=platforms)
    store = ImageStore(tmp_path / "images")
    assert await import_archive(store, oci_archive(layout, tmp_path / "a.tar")) == [
        "example.com/multi:2"
    ]
    image = store.lookup("example.com/multi:2")
    assert image is not None and f"IMAGE_ARCH={arch}" in image.config.env


async def test_an_archive_naming_only_a_tag_needs_a_repository_name(tmp_path: Path) -> None:
    archive = oci_archive(build_busybox_image(tmp_path / "layout"), tmp_path / "a.tar")
    store = ImageStore(tmp_path / "images")
    with pytest.raises(ArchiveError, match="names no image"):
        await import_archive(store, archive)
    assert await import_archive(store, archive, name="busybox") == [
        "docker.io/library/busybox:latest"
    ]


async def test_importing_a_docker_save_archive(tmp_path: Path) -> None:
    layer = busybox_layer()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [_sha256(layer)]},
    }
    manifest = [{"Config": "config.json", "RepoTags": ["busybox:saved"], "Layers": ["l/layer.tar"]}]
    archive = tmp_path / "saved.tar"
    with tarfile.open(archive, "w") as tar:
        for name, data in (
            ("manifest.json", json.dumps(manifest).encode()),
            ("config.json", json.dumps(config).encode()),
            ("l/layer.tar", layer),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    refs = await import_image(tmp_path / "node", archive)
    assert refs == ["docker.io/library/busybox:saved"]
    store = ImageStore(tmp_path / "node" / "images")
    image = store.lookup("busybox:saved")
    assert image is not None and image.config.env == ["PATH=/bin"]
    assert (store.rootfs_path(image.config_digest) / "bin" / "busybox").exists()


def _sha256(data: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(data).hexdigest()


# -- layers -------------------------------------------------------------------------------


def _layer(path: Path, entries: list[tuple[str, str, bytes | str]], compress: bool) -> Path:
    """Write a layer; entries are (name, kind: file|dir|symlink, content or link target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, kind, content in entries:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, str(content)
                tar.addfile(info)
            else:
                data = content if isinstance(content, bytes) else content.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def test_whiteouts_and_opaque_directories_hide_lower_layers(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    root.mkdir()
    lower = _layer(
        tmp_path / "l1",
        [
            ("etc", "dir", b""),
            ("etc/keep", "file", b"keep"),
            ("etc/gone", "file", b"gone"),
            ("data", "dir", b""),
            ("data/old1", "file", b"1"),
            ("data/old2", "file", b"2"),
        ],
        compress=True,
    )
    upper = _layer(
        tmp_path / "l2",
        [
            ("etc/.wh.gone", "file", b""),
            ("data/new", "file", b"new"),
            ("data/.wh..wh..opq", "file", b""),
        ],
        compress=False,
    )
    apply_layer(root, lower)
    diff_id = apply_layer(root, upper)
    assert diff_id == _sha256(upper.read_bytes())
    assert (root / "etc" / "keep").read_bytes() == b"keep"
    assert not (root / "etc" / "gone").exists()
    assert sorted(p.name for p in (root / "data").iterdir()) == ["new"]


def test_layers_cannot_write_outside_the_root_through_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    layer = _layer(
        tmp_path / "evil",
        [
            ("escape", "symlink", str(outside)),
            ("escape/pwned", "file", b"x"),
            ("up", "symlink", "../../.."),
            ("up/pwned2", "file", b"y"),
            ("../../pwned3", "file", b"z"),
        ],
        compress=False,
    )
    apply_layer(root, layer)
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "pwned3").exists()
    assert (root / str(outside).lstrip("/") / "pwned").read_bytes() == b"x"
    assert (root / "pwned2").read_bytes() == b"y"
