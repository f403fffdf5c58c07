"""The app a command works on, found the way the CDK CLI finds it.

``--app`` is either a cloud assembly directory (``cdk.out``, or ``cdk.out/assembly-Dev``) or the
command that synthesizes the app (``"python3 app.py"``); without it, ``cdk.json``'s ``"app"`` in
the working directory. The command runs as ``cdk synth`` runs it: with ``CDK_OUTDIR`` set to a
fresh directory and ``CDK_CONTEXT_JSON`` holding ``cdk.json``'s context, ``cdk.context.json``
and each ``-c key=value``; a command starting with ``python``/``python3`` runs with this
interpreter (the one that has serverless-patterns installed). ``--env NAME`` is passed as the
context value ``env`` too (this repository's ``app.py`` then synthesizes that stage alone) and
picks the nested assembly of that stage when the app has several stages.

Nothing here imports aws_cdk or moto.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serverless_patterns.cli.common import USAGE_ERROR, CliError

CDK_JSON = "cdk.json"
CDK_CONTEXT_FILE = "cdk.context.json"
# What `cdk synth` adds to the context: construct paths in templates, asset paths on resources.
CLI_CONTEXT = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}
_PYTHON_NAMES = ("python", "python3")


def parse_context(pairs: Sequence[str]) -> dict[str, str]:
    """``["key=value", ...]`` (the ``-c`` options) as a mapping; a pair without ``=`` is refused."""
    context: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise CliError(f"-c/--context: expected key=value, got {pair!r}", USAGE_ERROR)
        context[key.strip()] = value
    return context


@dataclass(frozen=True)
class AppSource:
    """Where the app comes from: ``--app`` (directory or command), else ``cdk.json`` in ``cwd``."""

    app: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    env: str | None = None
    cwd: Path = field(default_factory=Path.cwd)

    def app_setting(self) -> str:
        """The ``--app`` value, or cdk.json's ``"app"``; a one-line error when there is neither."""
        if self.app:
            return self.app
        settings = self._cdk_json()
        app = settings.get("app")
        if not isinstance(app, str) or not app.strip():
            where = self.cwd / CDK_JSON
            if where.is_file():
                raise CliError(f'{where} has no "app" command: pass --app', USAGE_ERROR)
            raise CliError(
                f"no app: pass --app <cloud assembly directory or command>, or run where cdk.json is (not {self.cwd})",
                USAGE_ERROR,
            )
        return app

    def _cdk_json(self) -> dict[str, Any]:
        path = self.cwd / CDK_JSON
        if not path.is_file():
            return {}
        try:
            settings = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise CliError(f"{path}: not readable JSON ({error})", USAGE_ERROR) from None
        return settings if isinstance(settings, dict) else {}

    def synthesis_context(self) -> dict[str, Any]:
        """The context the app command gets: cdk.json's, cdk.context.json's, then ``-c`` and ``--env``."""
        context: dict[str, Any] = dict(CLI_CONTEXT)
        context.update(self._cdk_json().get("context") or {})
        cached = self.cwd / CDK_CONTEXT_FILE
        if cached.is_file():
            try:
                context.update(json.loads(cached.read_text()))
            except ValueError as error:
                raise CliError(f"{cached}: not readable JSON ({error})", USAGE_ERROR) from None
        context.update(self.context)
        if self.env:
            context["env"] = self.env
        return context

    def command(self) -> list[str]:
        """The app command as an argument list (``python``/``python3`` replaced by this interpreter)."""
        words = shlex.split(self.app_setting())
        if words and Path(words[0]).name in _PYTHON_NAMES:
            words[0] = sys.executable
        return words

    def assembly(self, outdir: Path, progress: Callable[[str], None]) -> Path:
        """The cloud assembly to use: ``--app``'s directory, or the app synthesized into ``outdir``."""
        from serverless_patterns.local.assets import select_assembly

        setting = self.app_setting()
        directory = (self.cwd / setting).resolve() if not Path(setting).is_absolute() else Path(setting)
        if not directory.is_dir():
            directory = self.synthesize(outdir, progress)
        else:
            progress(f"using the cloud assembly in {directory}")
        try:
            return select_assembly(directory, self.env)
        except (FileNotFoundError, ValueError) as error:
            raise CliError(str(error), USAGE_ERROR) from None

    def synthesize(self, outdir: Path, progress: Callable[[str], None]) -> Path:
        """Run the app command into ``outdir``, as ``cdk synth`` would; the assembly directory."""
        command = self.command()
        shown = " ".join(shlex.quote(word) for word in shlex.split(self.app_setting()))
        progress(f"synthesizing: {shown}" + (f" (env {self.env})" if self.env else ""))
        environment = {
            **os.environ,
            "CDK_OUTDIR": str(outdir),
            "CDK_CONTEXT_JSON": json.dumps(self.synthesis_context()),
            "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
        }
        started = time.perf_counter()
        try:
            result = subprocess.run(  # noqa: S603  (the user's own app command, as the CDK CLI runs it)
                command, cwd=self.cwd, env=environment, capture_output=True, text=True, check=False
            )
        except OSError as error:
            raise CliError(f"cannot run the app command {shown!r}: {error}") from None
        if result.returncode != 0:
            tail = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()][-15:]
            for line in tail:
                print(f"  | {line}", file=sys.stderr)
            raise CliError(f"the app command {shown!r} failed (exit {result.returncode})")
        if not (outdir / "manifest.json").is_file():
            raise CliError(f"the app command {shown!r} wrote no cloud assembly (does it call app.synth()?)")
        progress(f"synthesized in {time.perf_counter() - started:.1f}s")
        return outdir
