"""MathJax, served by the website itself (no CDN): fetched once, pinned and verified.

The built site must make no request to another host, so the pages load
MathJax from ``_static/mathjax/``. Its files are third-party and large, so they
are not committed: :func:`ensure_mathjax` downloads the pinned release from the
npm registry (a Python-only download: no Node.js needed), checks the tarball
against the registry's published SHA-512, and extracts the parts the pages use
into ``book/_static/mathjax/`` (ignored by git), once.

Standard library only: dev.py calls it before .venv exists.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import tarfile
import urllib.request
from pathlib import Path

from autograder.paths import ROOT

VERSION = "3.2.2"
TARBALL = f"https://registry.npmjs.org/mathjax/-/mathjax-{VERSION}.tgz"
#: The npm registry's ``dist.integrity`` of that tarball.
INTEGRITY = "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
#: What the pages load: the TeX+MathML to CommonHTML component, its fonts, the
#: TeX extensions it loads on demand, and the menu's accessibility parts.
PARTS = ("es5/tex-mml-chtml.js", "es5/output/chtml/", "es5/input/", "es5/a11y/", "es5/ui/", "LICENSE")


def target(root: Path = ROOT) -> Path:
    return root / "book" / "_static" / "mathjax"


def wanted(name: str) -> str | None:
    """The path inside the target for a tarball member, or None to skip it."""
    inner = name.removeprefix("package/")
    if not any(inner == part or (part.endswith("/") and inner.startswith(part)) for part in PARTS):
        return None
    return inner.removeprefix("es5/")


def verify(data: bytes) -> None:
    algorithm, _, expected = INTEGRITY.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise RuntimeError(f"{TARBALL} does not match its published {algorithm} ({digest} != {expected})")


def ensure_mathjax(root: Path = ROOT) -> Path:
    """MathJax in book/_static/mathjax/, downloaded only if missing or of another version."""
    folder = target(root)
    stamp = folder / ".version"
    if stamp.is_file() and stamp.read_text().strip() == VERSION:
        return folder
    with urllib.request.urlopen(TARBALL, timeout=120) as response:  # noqa: S310 - a fixed https URL
        data = response.read()
    verify(data)
    shutil.rmtree(folder, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            inner = wanted(member.name)
            if inner is None or not member.isfile() or ".." in Path(inner).parts:
                continue
            destination = folder / inner
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(archive.extractfile(member).read())
    stamp.write_text(VERSION + "\n")
    return folder
