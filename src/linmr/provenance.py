"""Provenance stamped on every table and figure: config hash, level of theory, potential, versions, git commit.

Every table (CSV) and figure a rule writes gets a sidecar ``<file>.provenance.json``
(:func:`write_sidecar`, or :func:`write_sidecars` for all outputs of a job); the
``provenance`` rule gathers them into ``results/provenance.html``, which
``snakemake --report`` shows under the category "Provenance".
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .fileio import sha256_file, write_json, write_text

PACKAGES = ("linmr", "ase", "chgnet", "dscribe", "pyscf", "pyscf-properties", "torch", "numpy", "snakemake")
STAMPED_SUFFIXES = (".csv", ".png", ".pdf", ".svg", ".json")
SIDECAR_SUFFIX = ".provenance.json"


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


def level_of_theory(config: dict) -> str:
    from .dft.level import level_from_config

    return level_from_config(config["dft"]).label()


def potential(config: dict) -> dict:
    """The MLIP by name and package version, and the user model file with its SHA-256 where one is given."""
    from .md import registry

    md = config["md"]
    out = {"name": registry.version(md["potential"]), "engine": md["engine"], "model_path": md["model_path"]}
    if md["model_path"] and Path(md["model_path"]).is_file():
        out["model_sha256"] = sha256_file(md["model_path"])
    return out


def record(config: dict, path: str | Path | None = None, **extra) -> dict:
    """Everything needed to trace a result: config hash, level of theory, potential, versions, git commit."""
    rec = {}
    if path is not None:
        rec["file"] = str(path)
        if Path(path).is_file():
            rec["sha256"] = sha256_file(path)
    rec.update(
        run_name=config["run_name"],
        config_hash=config_hash(config),
        level_of_theory=level_of_theory(config),
        potential=potential(config),
        git_commit=git_commit(),
        versions=versions(),
        seed=config["seed"],
    )
    rec.update(extra)
    return rec


def sidecar_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def write_sidecar(path: str | Path, config: dict, **extra) -> Path:
    """Write ``<path>.provenance.json`` (atomically) describing ``path``; returns the sidecar's path."""
    side = sidecar_path(path)
    write_text(side, json.dumps(record(config, path, **extra), indent=2, sort_keys=True, default=str) + "\n")
    return side


def write_sidecars(outputs, config: dict, **extra) -> list[Path]:
    """Sidecars for every table/figure among a job's ``outputs`` (directories and other files are skipped)."""
    done = []
    for p in outputs:
        p = Path(p)
        twins = [p.with_suffix(".pdf")] if p.suffix.lower() == ".png" else []  # plots write a PDF twin
        for q in [p, *twins]:
            if q.is_file() and q.suffix.lower() in STAMPED_SUFFIXES and not q.name.endswith(SIDECAR_SUFFIX):
                done.append(write_sidecar(q, config, **extra))
    return done


def read_sidecar(path: str | Path) -> dict | None:
    side = sidecar_path(path)
    if not side.is_file():
        return None
    return json.loads(side.read_text())


def summary(files, config: dict) -> dict:
    """The provenance of each file (from its sidecar) plus the campaign's own record."""
    items = []
    for f in files:
        rec = read_sidecar(f)
        items.append({"file": str(f), "sidecar": rec is not None, **(rec or {})})
    return {"campaign": record(config), "files": items}


def gather(files, config: dict, results_dir: str | Path, json_path: str | Path, html_path: str | Path) -> dict:
    """The provenance rule: :func:`summary` of ``files`` plus every other stamped file under ``results_dir``
    (PDF twins, JSON summaries, tables added later), written as JSON and as the HTML page of the report."""
    files = list(map(str, files))
    extra = sorted(str(p)[: -len(SIDECAR_SUFFIX)] for p in Path(results_dir).rglob("*" + SIDECAR_SUFFIX))
    files += [f for f in extra if f not in files and f != str(json_path)]
    out = summary(files, config)
    write_json(json_path, out)
    write_text(html_path, html(out))
    return out


def html(summary_: dict) -> str:
    """A small self-contained HTML page of :func:`summary` (shown by ``snakemake --report``)."""
    from html import escape

    c = summary_["campaign"]
    rows = [
        ("run name", c.get("run_name")),
        ("config hash", c["config_hash"]),
        ("git commit", c["git_commit"]),
        ("level of theory", c["level_of_theory"]),
        ("potential", json.dumps(c["potential"])),
        ("seed", c.get("seed")),
        ("package versions", ", ".join(f"{k} {v}" for k, v in sorted(c["versions"].items()))),
    ]
    out = ["<html><head><meta charset='utf-8'><title>linmr provenance</title></head><body>",
           "<h2>Campaign provenance</h2><table border='1' cellpadding='4'>"]
    out += [f"<tr><th align='left'>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in rows]
    out.append("</table><h2>Tables and figures</h2><table border='1' cellpadding='4'>")
    out.append("<tr><th>file</th><th>config hash</th><th>git commit</th><th>level of theory</th>"
               "<th>potential</th><th>rule</th><th>sha256</th></tr>")
    for f in summary_["files"]:
        pot = f.get("potential", {}).get("name", "") if isinstance(f.get("potential"), dict) else ""
        cells = [f["file"], f.get("config_hash", "NO SIDECAR"), f.get("git_commit", ""), f.get("level_of_theory", ""),
                 pot, f.get("rule", ""), (f.get("sha256") or "")[:16]]
        out.append("<tr>" + "".join(f"<td>{escape(str(x))}</td>" for x in cells) + "</tr>")
    out.append("</table></body></html>")
    return "\n".join(out)
