"""The lock files `make run` and `make test` install from pin every dependency pyproject.toml names, at a
version its lower bound allows, with hashes; and the runtime lock agrees with the dev lock."""
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)(?: ; ([^\\]+))?", re.M)


def pins(name: str) -> dict[str, set[str]]:
    text = (ROOT / name).read_text()
    out: dict[str, set[str]] = {}
    for package, version, _marker in PIN.findall(text):
        out.setdefault(canonicalize_name(package), set()).add(version)
    return out


def test_every_pin_has_hashes():
    for name in ("requirements.lock", "requirements-dev.lock"):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / name).read_text())
        pinned = [b for b in blocks if PIN.match(b)]
        assert pinned and all("--hash=sha256:" in b for b in pinned), name


def test_the_locks_satisfy_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for lock, requirements in (("requirements.lock", project["dependencies"]),
                               ("requirements-dev.lock", project["dependencies"] + project["optional-dependencies"]["dev"])):
        locked = pins(lock)
        for line in requirements:
            req = Requirement(line)
            versions = locked.get(canonicalize_name(req.name))
            assert versions, f"{req.name} is in pyproject.toml but not in {lock}: run `make lock`"
            assert all(req.specifier.contains(v, prereleases=True) for v in versions), (lock, line, versions)


def test_the_runtime_lock_agrees_with_the_dev_lock():
    dev = pins("requirements-dev.lock")
    for package, versions in pins("requirements.lock").items():
        assert versions == dev.get(package), package
