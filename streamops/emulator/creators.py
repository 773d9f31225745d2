"""What every emulated resource creator shares: the inputs reader, names, tags, archives,
and the creator signature (resources.py for most types, s3_resources.py for the bucket's)."""

from __future__ import annotations

import io
import secrets
import zipfile
from collections.abc import Callable, Mapping
from typing import Any

import pulumi

from streamops.aws import AwsClients


class UnsupportedResource(Exception):
    """The emulator cannot create this resource type, input or invoke faithfully."""


class Inputs:
    """A resource's inputs; every key must be taken by the creator, or it is an error."""

    def __init__(self, type_token: str, name: str, values: Mapping[str, Any]):
        self.where = f"{type_token} {name!r}"
        self._values = {key: value for key, value in values.items() if value is not None}
        self._taken: set[str] = set()

    def take(self, key: str, default: Any = None) -> Any:
        self._taken.add(key)
        return self._values.get(key, default)

    def number(self, key: str, default: int | None = None) -> int | None:
        """Pulumi mocks deliver numbers as floats; AWS wants integers."""
        value = self.take(key)
        return default if value is None else int(value)

    def renamed(
        self, names: Mapping[str, str], convert: Callable[[Any], Any] = lambda value: value
    ) -> dict[str, Any]:
        """The inputs present among `names` (input -> API name), under their API names."""
        return {
            target: convert(self.take(key))
            for key, target in names.items()
            if self.take(key) is not None
        }

    def object(self, key: str, allowed: tuple[str, ...]) -> dict[str, Any] | None:
        value = self.take(key)
        if value is None:
            return None
        return only(value, allowed, f"{self.where} input {key}")

    def done(self) -> None:
        leftover = sorted(set(self._values) - self._taken)
        if leftover:
            raise UnsupportedResource(
                f"{self.where}: the embedded emulator does not apply input(s) {leftover}; "
                "teach streamops/emulator/resources.py to create them (never drop a setting)"
            )


def only(value: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> dict[str, Any]:
    """`value` without None entries; any key outside `allowed` is an UnsupportedResource."""
    present = {key: item for key, item in value.items() if item is not None}
    unknown = sorted(set(present) - set(allowed))
    if unknown:
        raise UnsupportedResource(f"{where}: the embedded emulator does not apply {unknown}")
    return present


def autoname(name: str) -> str:
    """Pulumi's auto-naming: the resource name, a dash and 7 random hex characters."""
    return f"{name}-{secrets.token_hex(4)[:7]}"


def tag_list(tags: Mapping[str, str] | None, key: str = "Key", value: str = "Value") -> list:
    return [{key: k, value: v} for k, v in (tags or {}).items()]


def archive_zip(archive: Any, where: str) -> bytes:
    """The Lambda deployment package for a `pulumi.AssetArchive` of file/string assets."""
    if not isinstance(archive, pulumi.AssetArchive):
        raise UnsupportedResource(f"{where}: code must be an AssetArchive (got {archive!r})")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for path, asset in sorted(archive.assets.items()):
            if isinstance(asset, pulumi.FileAsset):
                package.write(str(asset.path), path)
            elif isinstance(asset, pulumi.StringAsset):
                package.writestr(path, asset.text)
            else:
                raise UnsupportedResource(f"{where}: code asset {path!r} is {type(asset).__name__}")
    return buffer.getvalue()


Created = tuple[str, dict[str, Any]]  # (physical id, output properties)
Creator = Callable[[AwsClients, str, Inputs], Created]


# --- DynamoDB --------------------------------------------------------------------------
