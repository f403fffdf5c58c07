"""Handler files edited on disk, picked up on the next invocation.

A function's code is the asset its cloud assembly staged: a copy of its packages (your
package beside the pattern's runtime package). Each file of the asset has a source: the
same path under the app's directory (``price_lists/handler.py`` beside ``cdk.json``), else in
the package this interpreter imports (``serverless_patterns/lambdas/...``). ``check()`` runs
before every request the dev server takes and every round of its background loop; when a
source file changed since the last check, every function whose asset holds it is redeployed
as ``cdk deploy --hotswap`` would: ``UpdateFunctionCode`` with the asset's files and the edited
ones, ``PublishVersion``, and each of its aliases (``live``) moved to the new version. The next
invocation runs in a new container (a cold start) with the new code; invocations already
running finish with the old one.
"""

from __future__ import annotations

import importlib.util
import io
import threading
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serverless_patterns.local.assets import FileAsset, zip_directory

_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


@dataclass
class _Asset:
    """One code asset: its staged files and the source file each one came from."""

    asset: FileAsset
    sources: dict[str, Path]  # asset-relative path -> source file
    functions: list[str] = field(default_factory=list)  # physical names
    edited: dict[str, bytes] = field(default_factory=dict)  # what changed so far, by asset-relative path

    def zip(self) -> bytes:
        """The staged asset with every edited file in place of its staged copy."""
        original = zipfile.ZipFile(io.BytesIO(zip_directory(self.asset.source)))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for info in original.infolist():
                data = self.edited.get(info.filename, original.read(info.filename))
                entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIMESTAMP)
                entry.external_attr = info.external_attr
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, data)
        return buffer.getvalue()


def _source_root(package: str, roots: Sequence[Path]) -> Path | None:
    """Where the top-level package (or module) ``package`` of an asset is edited."""
    for root in roots:
        if (root / package).exists():
            return root
    try:
        spec = importlib.util.find_spec(package.removesuffix(".py"))
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).parent
    return Path(spec.origin).parent if spec.origin else None


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


class HandlerReloader:
    """Watches the sources of every function's code; redeploys a function whose source changed."""

    def __init__(
        self,
        *,
        functions: Iterable[tuple[str, str, str]],
        assets: Iterable[FileAsset],
        roots: Sequence[Path],
        client: Callable[[str], Any],
        progress: Callable[[str], None],
        label: Callable[[str], str] = lambda name: name,
    ) -> None:
        """``functions`` are ``(physical name, code bucket, code key)`` of the deployed functions."""
        self.client = client
        self.progress = progress
        self.label = label
        by_location = {(asset.bucket_name, asset.object_key): asset for asset in assets}
        self._assets: dict[tuple[str, str], _Asset] = {}
        for name, bucket, key in functions:
            asset = by_location.get((bucket, key))
            if asset is None or not asset.source.is_dir():
                continue
            watched = self._assets.get((bucket, key))
            if watched is None:
                watched = _Asset(asset, self._sources(asset.source, roots))
                self._assets[(bucket, key)] = watched
            watched.functions.append(name)
        self._seen = {path: _stat(path) for watched in self._assets.values() for path in watched.sources.values()}
        self._lock = threading.Lock()

    @staticmethod
    def _sources(staged: Path, roots: Sequence[Path]) -> dict[str, Path]:
        sources: dict[str, Path] = {}
        for path in sorted(p for p in staged.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            relative = path.relative_to(staged)
            root = _source_root(relative.parts[0], roots)
            if root is not None and (root / relative).is_file():
                sources[relative.as_posix()] = root / relative
        return sources

    @property
    def watched_files(self) -> int:
        """How many source files are watched."""
        return len(self._seen)

    def check(self) -> list[str]:
        """Redeploy the functions whose source files changed since the last check; their names."""
        with self._lock:
            changed = [path for path, seen in self._seen.items() if _stat(path) != seen]
            if not changed:
                return []
            for path in changed:
                self._seen[path] = _stat(path)
            redeployed = []
            for watched in self._assets.values():
                edited = {name: source for name, source in watched.sources.items() if source in changed}
                if not edited:
                    continue
                for name, source in edited.items():
                    try:
                        watched.edited[name] = source.read_bytes()
                    except OSError:
                        continue  # deleted or being written: the staged copy stays
                code = watched.zip()
                for function in watched.functions:
                    self._redeploy(function, code)
                    redeployed.append(function)
                    self.progress(f"reloaded {', '.join(sorted(edited))} -> {self.label(function)}")
            return redeployed

    def _redeploy(self, function: str, code: bytes) -> None:
        lambda_client = self.client("lambda")
        lambda_client.update_function_code(FunctionName=function, ZipFile=code)
        version = lambda_client.publish_version(FunctionName=function)["Version"]
        for alias in lambda_client.list_aliases(FunctionName=function).get("Aliases", []):
            lambda_client.update_alias(FunctionName=function, Name=alias["Name"], FunctionVersion=version)
