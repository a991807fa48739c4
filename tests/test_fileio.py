"""Atomic writes."""
import pytest


def test_atomic_path_never_leaves_a_half_written_file(tmp_path):
    from linmr.fileio import atomic_path

    target = tmp_path / "t.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            assert tmp.suffix == ".csv" and tmp.parent == tmp_path
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
    with atomic_path(target) as tmp:
        tmp.write_text("new\n")
    assert target.read_text() == "new\n" and sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_a_killed_writers_temp_file_is_removed_by_the_next_writer(tmp_path):
    """SIGKILL between the temporary file and the rename (the fault hook) leaves the old target and a
    temporary file; the next writer of the target removes it."""
    import subprocess
    import sys

    from linmr.fileio import write_text

    target = tmp_path / "t.csv"
    target.write_text("old\n")
    code = f"from linmr.fileio import write_text; write_text({str(target)!r}, 'new\\n')"
    env = {"LINMR_FAULT_KILL_BEFORE_RENAME": "t.csv", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    assert out.returncode == -9  # killed
    left = sorted(p.name for p in tmp_path.iterdir())
    assert target.read_text() == "old\n" and len(left) == 2 and left[1].startswith("t.tmp"), left
    write_text(target, "new\n")
    assert target.read_text() == "new\n" and sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
