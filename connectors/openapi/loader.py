"""Reading OpenAPI documents (JSON or YAML, one file or many) and resolving JSON References.

Resolution is lazy: a `$ref` is followed only when the converter reads that part, so a
multi-file spec loads just the files its operations reach. Every document is parsed once and
cached by its absolute URI (a `file:` URI for files, the URL otherwise).

We do not use `referencing` here: it knows neither YAML nor our fetch policy, and its per-lookup
overhead is far above a cached dict walk on specs with hundreds of thousands of references.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import orjson
import yaml

from connectors.openapi.errors import SpecError, display_uri, escape_token

FetchUrl = Callable[[str], bytes]

_MAX_REF_CHAIN = 64  # a longer chain of $ref-to-$ref is a cycle in practice
_SUPPORTED = "supported: Swagger 2.0, OpenAPI 3.0, 3.1 (and 3.2 read as 3.1)"


@dataclass(frozen=True, slots=True)
class Located:
    """A value from a spec document plus where it lives (for relative refs and error messages)."""

    value: Any
    uri: str  # absolute URI of the document holding the value
    pointer: str  # JSON pointer of the value inside that document ("" = whole document)

    def child(self, key: str | int) -> Located:
        return Located(self.value[key], self.uri, f"{self.pointer}/{escape_token(str(key))}")

    def get(self, key: str) -> Located | None:
        if isinstance(self.value, dict) and key in self.value:
            return self.child(key)
        return None

    def items(self) -> Iterator[tuple[str, Located]]:
        """(key, child) pairs of a mapping; nothing for anything else."""
        if isinstance(self.value, dict):
            for key in self.value:
                yield str(key), self.child(key)

    def elements(self) -> Iterator[Located]:
        if isinstance(self.value, list):
            for index in range(len(self.value)):
                yield self.child(index)

    def error(self, message: str) -> SpecError:
        return SpecError(message, document=self.uri, pointer=self.pointer)


@dataclass(slots=True)
class Resolver:
    """Documents by absolute URI, and `$ref` targets by (base document, reference)."""

    remote: bool  # the entry document came from a URL: refs may only be fetched URLs
    fetch_url: FetchUrl | None = None
    documents: dict[str, Any] = field(default_factory=dict)
    _targets: dict[tuple[str, str], Located] = field(default_factory=dict)

    def document(self, uri: str) -> Any:
        if uri not in self.documents:
            self.documents[uri] = parse_document(self._read(uri), uri)
        return self.documents[uri]

    def resolve(self, ref: str, base: str) -> Located:
        """The target of `ref` written in document `base` (one step; no chain following).

        Raises a SpecError without location: the caller knows where the `$ref` sits.
        """
        key = (base, ref)
        target = self._targets.get(key)
        if target is None:
            target = self._targets[key] = self._lookup(ref, base)
        return target

    def deref(self, loc: Located) -> Located:
        """Follow `$ref`s from `loc` until a value that is not a reference."""
        for _ in range(_MAX_REF_CHAIN):
            ref = loc.value.get("$ref") if isinstance(loc.value, dict) else None
            if not isinstance(ref, str):
                return loc
            try:
                loc = self.resolve(ref, loc.uri)
            except SpecError as exc:
                raise exc.locate(loc.uri, loc.pointer) from None
        raise loc.error("circular $ref chain")

    def _lookup(self, ref: str, base: str) -> Located:
        address, _, fragment = ref.partition("#")
        uri = self._target_uri(address, base, ref) if address else base
        pointer = unquote(fragment)
        return Located(_walk(self.document(uri), pointer, ref, uri), uri, pointer)

    def _target_uri(self, address: str, base: str, ref: str) -> str:
        uri = urljoin(base, address)
        scheme = urlsplit(uri).scheme
        if scheme == "file" and not self.remote:
            return file_uri(url2pathname(urlsplit(uri).path))
        if scheme in ("http", "https") and self.remote:
            return uri
        origin = "a URL" if self.remote else "a file"
        raise SpecError(f"$ref {ref!r} points to {uri}, which a spec loaded from {origin} may not reference")

    def _read(self, uri: str) -> bytes:
        if not self.remote:
            return _read_file(uri)
        if self.fetch_url is None:
            raise SpecError(f"cannot fetch {uri}: no URL fetcher given")
        try:
            data = self.fetch_url(uri)
        except Exception as exc:  # the hub's fetcher raises its own errors; report them as ours
            raise SpecError(f"cannot fetch {uri}: {exc}") from exc
        return data.encode() if isinstance(data, str) else data


@dataclass(frozen=True, slots=True)
class LoadedSpec:
    """An OpenAPI/Swagger document ready for conversion, with its reference resolver."""

    source: str  # what the caller passed: a path or URL
    uri: str  # absolute URI of the entry document
    version: str  # as declared: "2.0", "3.0.3", "3.1.0", ...
    document: dict[str, Any]
    resolver: Resolver

    @property
    def is_swagger2(self) -> bool:
        return self.version == "2.0"

    @property
    def root(self) -> Located:
        return Located(self.document, self.uri, "")


def load_spec(source: str, *, fetch_url: FetchUrl | None = None) -> LoadedSpec:
    """Read the spec at `source` (a file path or http(s) URL) and check that it is OpenAPI.

    `fetch_url` fetches the entry document and relative references when `source` is a URL;
    a spec read from a file may only reference files.
    """
    remote = source.startswith(("http://", "https://"))
    # The entry file's real location: its relative refs are written against where it really lives.
    uri = source.partition("#")[0] if remote else file_uri(os.path.realpath(source))
    resolver = Resolver(remote=remote, fetch_url=fetch_url)
    document = resolver.document(uri)
    version = detect_version(document, uri)
    return LoadedSpec(source=source, uri=uri, version=version, document=document, resolver=resolver)


def detect_version(document: Any, uri: str) -> str:
    if not isinstance(document, dict):
        kind = type(document).__name__ if document is not None else "empty"
        raise SpecError(f"not an OpenAPI or Swagger document (top level is {kind})", document=uri)
    if "openapi" in document:
        version = _version_text(document["openapi"])
        if re.match(r"3\.[0-2](\.|$)", version):
            return version
        message = f"unsupported OpenAPI version {version!r}; {_SUPPORTED}"
        raise SpecError(message, document=uri, pointer="/openapi")
    if "swagger" in document or "swaggerVersion" in document:
        key = "swagger" if "swagger" in document else "swaggerVersion"
        version = _version_text(document[key])
        if version in ("2.0", "2"):
            return "2.0"
        message = f"unsupported Swagger version {version!r}; {_SUPPORTED}"
        raise SpecError(message, document=uri, pointer=f"/{key}")
    found = " (it looks like an AsyncAPI document)" if "asyncapi" in document else ""
    raise SpecError(f"not an OpenAPI or Swagger document: no 'openapi' or 'swagger' key{found}", document=uri)


def _version_text(value: Any) -> str:
    # Unquoted YAML versions arrive as numbers: `swagger: 2.0` is the float 2.0.
    return str(value).strip()


def file_uri(path: str) -> str:
    """The canonical URI of a file (normalised without touching the file system)."""
    return Path(os.path.normpath(os.path.abspath(path))).as_uri()


def _read_file(uri: str) -> bytes:
    path = url2pathname(urlsplit(uri).path)
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise SpecError(f"file not found: {path}") from None
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror or exc}") from None


def _walk(document: Any, pointer: str, ref: str, uri: str) -> Any:
    """The value at JSON pointer `pointer` (RFC 6901) in `document`."""
    if pointer and not pointer.startswith("/"):
        raise SpecError(f"$ref {ref!r}: only JSON-pointer fragments are supported")
    node = document
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise SpecError(f"$ref {ref!r}: {display_uri(uri)} has nothing at #{pointer}")
    return node


# --- parsing -----------------------------------------------------------------------------------


def parse_document(data: bytes, uri: str) -> Any:
    """JSON (via orjson) or YAML, whichever the content is; JSON-compatible values only."""
    head = data[:256].lstrip(b" \t\r\n\xef\xbb\xbf")[:1]
    is_json_name = uri.lower().endswith(".json")
    if head in (b"{", b"[") or is_json_name:
        try:
            return orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError as exc:
            if is_json_name:
                raise SpecError(f"invalid JSON: {exc}", document=uri) from None
    return _parse_yaml(data, uri)


def _parse_yaml(data: bytes, uri: str) -> Any:
    try:
        return yaml.load(data, Loader=_JsonCompatibleLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"invalid YAML{where}: {exc.problem or exc.context}", document=uri) from None
    except (yaml.YAMLError, ValueError) as exc:
        raise SpecError(f"invalid YAML: {exc}", document=uri) from None


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _JsonCompatibleLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """A safe YAML loader whose output is always JSON-serialisable.

    Mapping keys become strings (`200:` is an int key in YAML, a status code in OpenAPI),
    timestamps become ISO strings (unquoted `2020-01-01` examples are dates in YAML), and
    integers beyond 64 bits become floats, as orjson reads them from JSON (and can write them).
    """


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Iterator[dict[str, Any]]:
    data: dict[str, Any] = {}
    yield data  # yielded first so that recursive aliases can point at it
    for key, value in loader.construct_mapping(node).items():
        data[key if isinstance(key, str) else _key_text(key)] = value


def _key_text(key: Any) -> str:
    if isinstance(key, bool) or key is None:
        return orjson.dumps(key).decode()  # true / false / null, as YAML wrote them
    return key.isoformat() if isinstance(key, datetime.date) else str(key)


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    value = loader.construct_yaml_timestamp(node)
    return value.isoformat()


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | float:
    value: int = loader.construct_yaml_int(node)
    return value if -(2**63) <= value < 2**64 else float(value)


_JsonCompatibleLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_JsonCompatibleLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_JsonCompatibleLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
