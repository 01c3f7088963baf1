#!/usr/bin/env python3
"""The course's two set-up commands. Needs only Python 3.10+ on the machine.

    python3 dev.py book    build the website into _build/html
    python3 dev.py test    run every test, one worker per core (extra arguments go to pytest)

Both first make sure ``.venv/`` at the repository root exists and holds exactly
the pinned versions in ``requirements.lock`` plus this repository's helper
package ``rnnlab`` (its src/ folder on the path, so edits take effect at once).
The install is redone only when ``requirements.lock`` or ``pyproject.toml``
changes.

``test`` also needs four system programs: Chromium and ChromeDriver (the browser
tests), bubblewrap with libseccomp (the grader's sandbox) and PostgreSQL's server
programs (the cluster tests start their own server; nothing system-wide runs). Where
one is missing and this machine can install it (Debian or Ubuntu's apt-get, as root or
with passwordless sudo), ``test`` installs them first, saying so; elsewhere it prints
the one command that would, and the tests that need them are skipped loudly (CI sets
COURSE_REQUIRE_*=1, which makes them failures instead). ``COURSE_NO_SYSTEM_INSTALL=1``
turns the installing off.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".course-installed"


def say(message: str) -> None:
    print(f"[dev.py] {message}", flush=True)


def run(command: list[str], **kwargs) -> None:
    """Run a command, exiting with its status if it fails."""
    result = subprocess.run(command, cwd=ROOT, **kwargs)
    if result.returncode != 0:
        sys.exit(result.returncode)


def wanted_state() -> str:
    """A fingerprint of what .venv must hold: the lock, the package metadata, the Python."""
    digest = hashlib.sha256()
    for name in ("requirements.lock", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_environment() -> None:
    """Create .venv and install the pinned dependencies, unless already done."""
    if sys.version_info < (3, 10):
        sys.exit(f"Python 3.10 or newer is needed; this is {sys.version.split()[0]}.")
    state = wanted_state()
    if STAMP.exists() and STAMP.read_text() == state and PYTHON.exists():
        return
    if not PYTHON.exists():
        say(f"creating {VENV.relative_to(ROOT)}/ with {sys.executable}")
        run([sys.executable, "-m", "venv", str(VENV)])
    say("installing the pinned dependencies (first time only: a few minutes)")
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    run([*pip, "install", "--upgrade", "pip"])
    # --no-deps: exactly the lock, which lists every package (see its header for what it leaves out).
    run([*pip, "install", "--no-deps", "-r", str(ROOT / "requirements.lock")])
    link_helper_package()
    STAMP.write_text(state)


def link_helper_package() -> None:
    """Make this checkout's src/rnnlab importable in .venv, as an editable install would,
    but with a one-line .pth file: nothing is built, nothing is written into the checkout."""
    site_packages = subprocess.run([str(PYTHON), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([str(PYTHON), "-m", "pip", "uninstall", "--yes", "--quiet", "rnnlab"],  # an older editable install
                   cwd=ROOT, capture_output=True, check=False)
    (Path(site_packages) / "rnnlab-checkout.pth").write_text(str(ROOT / "src") + "\n")


def book(_args: list[str]) -> None:
    from tools.book import build  # standard library only: importable outside .venv

    ensure_environment()
    result = build(BIN)
    if result.returncode != 0:
        sys.exit(result.returncode)
    say(f"the website is in {ROOT / '_build' / 'html'}; open index.html in a browser")


def warn_loudly(lines: list[str]) -> None:
    rule = "!" * 78
    say("\n".join([rule, *(f"  {line}" for line in lines), rule]))


#: Debian's packages for what the tests need, with how to tell each is there.
SYSTEM_PACKAGES = {
    "chromium": lambda: shutil.which("chromium") is not None,
    "chromium-driver": lambda: shutil.which("chromedriver") is not None,
    "bubblewrap": lambda: shutil.which("bwrap") is not None,
    "libseccomp2": lambda: bool(glob.glob("/usr/lib/*/libseccomp.so.2") + glob.glob("/lib/*/libseccomp.so.2")),
    "postgresql": lambda: shutil.which("initdb") is not None or bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")),
}


def missing_system_packages() -> list[str]:
    return [name for name, present in SYSTEM_PACKAGES.items() if not present()]


def ensure_system_packages() -> None:
    """Install the missing system packages with apt-get where this machine allows it, else say how."""
    missing = missing_system_packages()
    if not missing:
        return
    command = ["apt-get", "install", "-y", "-qq", *missing]
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    can = (shutil.which("apt-get") is not None and os.environ.get("COURSE_NO_SYSTEM_INSTALL") != "1"
           and (not sudo or (shutil.which("sudo") is not None
                             and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0)))
    if not can:
        warn_loudly([f"missing system packages: {' '.join(missing)}; the tests that need them will be SKIPPED.",
                     f"Install them with:  sudo {' '.join(command[:3])} {' '.join(missing)}"])
        return
    say(f"installing the system packages the tests need: {' '.join(missing)} (apt-get{', with sudo' if sudo else ''})")
    run([*sudo, "apt-get", "update", "-qq"])
    # While installing, a policy-rc.d that says "no": the postgresql package must not start a
    # system-wide server (the tests start their own, on 127.0.0.1, and stop it).
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = not policy.exists()
    if made_policy:
        run([*sudo, "sh", "-c", f"printf '#!/bin/sh\\nexit 101\\n' > {policy} && chmod +x {policy}"])
    try:
        run([*sudo, "env", "DEBIAN_FRONTEND=noninteractive", *command], stdout=subprocess.DEVNULL)
    finally:
        if made_policy:
            subprocess.run([*sudo, "rm", "-f", str(policy)], check=False)


def warn_without_browser() -> None:
    """The browser tests need Chromium and ChromeDriver; say loudly how to get them."""
    missing = [name for name in ("chromium", "chromedriver") if not shutil.which(name)]
    if missing:
        warn_loudly([f"{' and '.join(missing)} not found: the browser tests will be SKIPPED.",
                     "Install them with:  sudo apt-get install chromium chromium-driver",
                     "(CI's .ci/run does this and fails without them.)"])


def warn_without_sandbox() -> None:
    """The grader's sandbox needs bubblewrap; without it its tests are skipped: say so loudly."""
    if not shutil.which("bwrap"):
        warn_loudly(["bwrap (bubblewrap) not found: the SANDBOX TESTS will be SKIPPED and the other",
                     "grading tests will run without isolation.",
                     "Install it with:  sudo apt-get install bubblewrap",
                     "(CI's .ci/run does this and fails without it.)"])


def parallel_options(args: list[str]) -> list[str]:
    """pytest-xdist's options: one worker per core, each group of tests (tests/parallel.py) on one
    worker, unless the arguments choose for themselves (``-n 0`` runs everything in one process)."""
    from tools.book import default_jobs

    chosen = any(arg.startswith(("-n", "--numprocesses", "--dist")) or arg.endswith("no:xdist") for arg in args)
    return [] if chosen else ["-n", str(default_jobs()), "--dist", "loadgroup"]


def test(args: list[str]) -> None:
    from tools.book import book_environment

    ensure_environment()
    ensure_system_packages()
    warn_without_browser()
    warn_without_sandbox()
    # .venv's scripts come first on PATH (nbgrader runs `alembic` from there).
    run([str(PYTHON), "-m", "pytest", *parallel_options(args), *args],
        env={**book_environment(BIN), "VIRTUAL_ENV": str(VENV)})


COMMANDS = {"book": book, "test": test}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
