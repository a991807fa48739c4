"""Provenance stamped on every table and figure: config hash, versions, git commit."""

from __future__ import annotations

import hashlib
import json
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGES = ("linmr", "ase", "chgnet", "dscribe", "pyscf", "pyscf-properties", "torch", "numpy", "snakemake")


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]


def git_commit(path: str | Path = ".") -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=path, capture_output=True, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def versions() -> dict:
    out = {}
    for p in PACKAGES:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            pass
    return out


def stamp(config: dict, **extra) -> dict:
    return {"config_hash": config_hash(config), "git_commit": git_commit(), "versions": versions(), **extra}


def footer(config: dict, **extra) -> str:
    """One line for the corner of a figure."""
    bits = [f"config {config_hash(config)}", f"git {git_commit()}"] + [f"{k} {v}" for k, v in extra.items()]
    return " | ".join(bits)
