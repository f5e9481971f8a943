"""What a real machine does to a sweep: the main process killed (alone or with its workers, at
any step: runs, assembly, summaries, figures, after completion), Ctrl-C and SIGTERM, a full
disk, parts and tables damaged or deleted on disk, a damaged manifest. Each time the same
command finishes the job, redoing only what is missing or damaged, and the tables equal an
uninterrupted run's, bit for bit; nothing is ever assembled from a damaged file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import CLI_ENV, assert_same_tables, driver, run_cli, script, snapshot
from faults import InterruptAt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helsesim.model.allocation import DESIGNS
from helsesim.runner import store
from helsesim.runner.job import run_experiment
from helsesim.runner.job_folder import FolderLock, ResultsConflict, StorageFull
from helsesim.runner.manifest import read_manifest
from helsesim.runner.tables import table_files

#: A sweep long enough to be stopped part-way: every design x 20 seeds, one run a part.
SWEEP = ["years=3", "experiment.n_seeds=20", "experiment.n_jobs=2", "experiment.chunk_size=1",
         "experiment.progress=false", "experiment.figures=false"]
#: A short one, for kills at the steps after the runs (figures only where they are killed:
#: drawing them takes longer than the runs).
SHORT = ["years=2", "experiment.n_seeds=2", "experiment.n_jobs=2", "experiment.chunk_size=1",
         "experiment.progress=false", "experiment.figures=false"]
FIGURES = [*SHORT[:-1], "experiment.figures=true"]


def uninterrupted(args: list[str], folder: Path) -> Path:
    """A sweep run uninterrupted, serially, in this process."""
    from helsesim.runner.compose import compose_config

    run_experiment(compose_config([*args, "experiment.n_jobs=1", "experiment.figures=false"]),
                   folder / "job")
    return folder / "job"


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    return uninterrupted(SWEEP, tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="module")
def short_reference(tmp_path_factory) -> Path:
    return uninterrupted(SHORT, tmp_path_factory.mktemp("short"))


def parts(job: Path) -> int:
    folder = job / store.PARTS
    return sum(1 for d in folder.iterdir() if not d.name.startswith(".")) if folder.exists() \
        else 0


def start(job: Path, cwd: Path, faults: dict | None = None, args: list[str] = SWEEP
          ) -> subprocess.Popen:
    """The sweep as a console script in a session of its own (its workers in its group)."""
    cmd = [*(driver(faults) if faults else script("helsesim")), *args, f"hydra.run.dir={job}"]
    return subprocess.Popen(cmd, cwd=cwd, env=CLI_ENV, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for_parts(proc: subprocess.Popen, job: Path, n: int = 5) -> None:
    deadline = time.monotonic() + 120
    while parts(job) < n:
        assert proc.poll() is None, "the sweep ended before it could be stopped"
        assert time.monotonic() < deadline, "no runs were saved in 120 s"
        time.sleep(0.01)


def alive(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies are dead)."""
    out = []
    for pid in Path("/proc").iterdir():
        if not pid.name.isdigit():
            continue
        try:
            fields = (pid / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            out.append(int(pid.name))
    return out


def wait_until_gone(group: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while alive(group):
        assert time.monotonic() < deadline, f"processes {alive(group)} outlived their job"
        time.sleep(0.05)


def finish(job: Path, cwd: Path, reference: Path, args: list[str] = SWEEP) -> str:
    """Run the same command again: it must finish the job (every run once, the tables of an
    uninterrupted run, the report, no leftovers). Returns its output."""
    res = run_cli([*args, f"hydra.run.dir={job}"], cwd=cwd)
    assert_same_tables(job, reference)
    assert read_manifest(job)["status"] == "complete"
    assert not (job / store.PARTS).exists()
    assert not [p for p in job.rglob(".*.tmp")], "a temporary file was left behind"
    assert (job / "summary.md").exists()
    if "experiment.figures=true" in args:
        assert len(list((job / "figures").glob("*.png"))) >= 5
    return res.stdout + res.stderr


# --- the main process killed, interrupted ---------------------------------------------------

@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process groups from /proc")
def test_the_main_process_killed_alone_interrupted_or_stopped_and_the_job_resumes(
        tmp_path, reference):
    """One job stopped four times, then finished by the same command with only the missing
    runs, to the tables of an uninterrupted run (every run once):

    * SIGKILL of the whole process group (the command and its workers);
    * SIGKILL of the main process only (as the out-of-memory killer does): its workers die
      with it and never keep the job's lock, so the folder is free at once;
    * Ctrl-C (SIGINT to the foreground group): exit 130, one line, the pool stopped;
    * SIGTERM to the main process (as a scheduler does): exit 143, one line, the pool stopped.
    """
    job = tmp_path / "job"
    for signum, group, status, name in ((signal.SIGKILL, True, -signal.SIGKILL, None),
                                        (signal.SIGKILL, False, -signal.SIGKILL, None),
                                        (signal.SIGINT, True, 130, "Ctrl-C"),
                                        (signal.SIGTERM, False, 143, "SIGTERM")):
        proc = start(job, tmp_path)
        wait_for_parts(proc, job, parts(job) + 5)
        if group:  # Ctrl-C reaches the whole foreground group
            os.killpg(proc.pid, signum)
        else:
            os.kill(proc.pid, signum)  # the main process only
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == status, out
        if name is None:
            with FolderLock(job):  # free at once, even while a worker exits
                pass
        else:
            assert "Traceback" not in out
            lines = [ln for ln in out.splitlines() if "interrupted" in ln]
            assert len(lines) == 1 and f"interrupted ({name})" in lines[0], out
            assert "run the same command again to resume" in lines[0]
        wait_until_gone(proc.pid)
        assert parts(job) < 100 and not (job / "runs.parquet").exists()
    assert "resuming:" in finish(job, tmp_path, reference)


def test_a_forked_child_never_keeps_the_job_folder_locked(tmp_path):
    """flock belongs to the open file, which a forked worker shares: the worker closes its copy
    at fork, so a worker that outlives its main process cannot keep the folder locked."""
    lock = FolderLock(tmp_path)
    lock.__enter__()
    started, tell = os.pipe()
    child = os.fork()
    if child == 0:  # a worker that lives on
        os.write(tell, b"up")
        time.sleep(30)
        os._exit(0)
    try:
        assert os.read(started, 2) == b"up"  # the worker runs (its fork handlers ran)
        lock.__exit__(None, None, None)  # the main process ends
        with FolderLock(tmp_path):  # refused if the child still held the lock
            pass
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        os.close(started)
        os.close(tell)


@pytest.mark.parametrize("kills,last", [
    ([("table", 2, SHORT), ("summaries", 1, SHORT), ("summary.md", 1, SHORT),
      ("figure", 2, FIGURES)], FIGURES),
    ([("parts removal", 1, SHORT)], SHORT),
], ids=["during assembly, summaries, summary.md, figures", "complete, before parts/ went"])
def test_a_kill_at_each_step_after_the_runs_is_finished_by_the_same_command(
        tmp_path, short_reference, kills, last):
    """Killed while the tables are assembled, before the summaries, before summary.md, while
    the figures are drawn (asked for on the fourth try: figures are an execution setting), and
    after the job was complete but before parts/ went: each time the same command redoes only
    the missing steps (the runs run once) and cleans up what the kill left (temporary files,
    parts/)."""
    job = tmp_path / "job"
    for n, (step, count, args) in enumerate(kills):
        proc = start(job, tmp_path, faults={"strike": [step, count, "kill"]}, args=args)
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL, (step, out)
        # the runs ran once: then the parts were reassembled, then only later steps redone
        done = f"resuming: {2 * len(DESIGNS)} runs already done"  # SHORT: 2 seeds a design
        expected = ["resuming" not in out, done in out, "runs of nordland" not in out][min(n, 2)]
        assert expected, (step, out)
    out = finish(job, tmp_path, short_reference, args=last)
    assert "runs of nordland" not in out


def test_a_full_disk_is_named_in_one_line_and_the_job_resumes_once_there_is_space(
        tmp_path, short_reference):
    """ENOSPC while a worker saves a part: exit 1, one line naming the full disk, nothing
    damaged; the same command then finishes the job."""
    job = tmp_path / "job"
    res = run_cli([*SHORT, f"hydra.run.dir={job}"], cwd=tmp_path, status=1,
                  faults={"strike": ["part", 3, "disk full"]})
    out = res.stdout + res.stderr
    assert "Traceback" not in out
    line = [ln for ln in out.splitlines() if "disk full" in ln]
    assert len(line) == 1 and "run the same command again" in line[0], out
    assert read_manifest(job)["status"] == "running"
    finish(job, tmp_path, short_reference, args=SHORT)


# --- damaged parts: a property over every kind of damage ------------------------------------

def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 64] = bytes(b ^ 0xFF for b in data[mid:mid + 64])
    path.write_bytes(bytes(data))


DAMAGE = {
    "a table file deleted": lambda d: (d / "years.arrow").unlink(),
    "the runs file deleted": lambda d: (d / "runs.arrow").unlink(),
    "64 bytes flipped": lambda d: _flip(d / "municipalities.arrow"),
    "truncated": lambda d: (d / "projects.arrow").write_bytes(
        (d / "projects.arrow").read_bytes()[:100]),
    "garbage": lambda d: (d / "runs.arrow").write_bytes(b"\x00garbage" * 10),
    "no record": lambda d: (d / store.RECORD).unlink(),
    "a record of other runs": lambda d: (d / store.RECORD).write_text(
        json.dumps({"run_ids": [99999], "tables": {}})),
    "an unreadable record": lambda d: (d / store.RECORD).write_text("{not json"),
    "the whole part deleted": shutil.rmtree,
}

SMALL = ["years=2", "experiment.n_seeds=4", "experiment.n_jobs=1", "experiment.chunk_size=1",
         "experiment.progress=false", "experiment.figures=false"]


@pytest.fixture(scope="module")
def small_reference(tmp_path_factory) -> Path:
    from helsesim.runner.compose import compose_config

    out = tmp_path_factory.mktemp("small") / "job"
    run_experiment(compose_config(SMALL), out)
    return out


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(stop=st.integers(4, 19),
       damage=st.lists(st.tuples(st.sampled_from(sorted(DAMAGE)), st.integers(0, 100)),
                       min_size=1, max_size=3))
def test_damaged_or_missing_parts_are_rerun_never_assembled(compose, tmp_path_factory,
                                                            small_reference, stop, damage):
    """Stop a job after ``stop`` runs, damage some of its parts in any way; the same call
    reruns exactly the damaged parts' runs and gives the uninterrupted tables."""
    job = tmp_path_factory.mktemp("damaged") / "job"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(compose(SMALL), job, before_run=InterruptAt(stop))
    saved = sorted(d for d in (job / store.PARTS).iterdir())
    assert len(saved) == stop
    (job / store.PARTS / ".tmp-left-by-a-kill").mkdir()
    hit = set()
    for kind, which in damage:
        part = saved[which % len(saved)]
        if part in hit or not part.exists():
            continue
        DAMAGE[kind](part)
        hit.add(part)
    ran = []
    res = run_experiment(compose(SMALL), job, before_run=ran.append)
    assert sorted(s.run_id for s in ran) == sorted(
        {int(p.name.split("-")[0]) for p in hit} | set(range(stop, 20)))
    assert res.tables["runs"]["run_id"].tolist() == list(range(20))
    assert_same_tables(job, small_reference)


# --- a finished job damaged: verified, not trusted ------------------------------------------

@pytest.fixture
def finished(compose, tmp_path, small_reference) -> Path:
    job = tmp_path / "job"
    shutil.copytree(small_reference, job)
    return job


@pytest.mark.parametrize("damage", ["years.parquet truncated", "years.parquet deleted",
                                    "runs.parquet flipped"])
def test_a_complete_job_whose_table_is_damaged_is_run_again(compose, finished, damage,
                                                            small_reference, caplog):
    name, how = damage.split(" ")
    path = finished / name
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])
    elif how == "deleted":
        path.unlink()
    else:
        _flip(path)
    with caplog.at_level("WARNING"):
        run_experiment(compose(SMALL), finished)
    assert f"{name}" in caplog.text and "running the job's missing runs again" in caplog.text
    assert_same_tables(finished, small_reference)


def test_a_complete_job_missing_its_report_or_summaries_gets_them(compose, finished):
    (finished / "summary.md").unlink()
    (finished / "differences.parquet").unlink()
    ran = []
    run_experiment(compose(SMALL), finished, before_run=ran.append)
    assert not ran
    assert (finished / "summary.md").exists() and (finished / "differences.parquet").exists()
    run_experiment(compose([*SMALL, "experiment.figures=true"]), finished)  # asked for now
    assert len(list((finished / "figures").glob("*.png"))) >= 5


def test_an_unfinished_job_marked_complete_is_finished(compose, finished, small_reference):
    """The status is not trusted: a manifest edited to say complete, tables gone."""
    for t in table_files():
        (finished / t).unlink()
    m = json.loads((finished / "manifest.json").read_text())
    m["status"] = "complete"
    del m["files"]
    (finished / "manifest.json").write_text(json.dumps(m))
    run_experiment(compose(SMALL), finished)
    assert_same_tables(finished, small_reference)


@pytest.mark.parametrize("content,needle", [
    ("{\"identity\": {\"results_fo", "manifest.json is damaged (Unterminated string"),
    ("[]", "manifest.json is damaged (a JSON list, not an object)"),
    ("", "manifest.json is damaged"),
])
def test_a_damaged_manifest_is_refused_in_one_line(compose, finished, content, needle):
    (finished / "manifest.json").write_text(content)
    before = snapshot(finished)
    with pytest.raises(ResultsConflict) as e:
        run_experiment(compose(SMALL), finished)
    msg = str(e.value)
    assert needle in msg and "experiment.overwrite=true" in msg and "\n" not in msg
    assert snapshot(finished) == before
    run_experiment(compose([*SMALL, "experiment.overwrite=true"]), finished)


def test_leftovers_of_a_killed_job_are_cleaned_when_it_starts(compose, finished):
    (finished / ".runs.parquet.abc123.tmp").write_bytes(b"half a table")
    (finished / store.PARTS / "0000000-0000000").mkdir(parents=True)  # after completion
    ran = []
    run_experiment(compose(SMALL), finished, before_run=ran.append)
    assert not ran
    assert not (finished / ".runs.parquet.abc123.tmp").exists()
    assert not (finished / store.PARTS).exists()


def test_a_full_disk_while_the_tables_are_written_damages_nothing(compose, tmp_path,
                                                                  small_reference,
                                                                  monkeypatch):
    import errno

    import pyarrow.parquet as pq

    job = tmp_path / "job"
    real = pq.ParquetWriter.write_table

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    with pytest.raises(StorageFull, match=r"^disk full \(no space left on device\).*resume"):
        run_experiment(compose(SMALL), job)
    assert not [p for p in job.rglob(".*.tmp")]
    assert len(list((job / store.PARTS).iterdir())) == 20  # every run saved
    monkeypatch.setattr(pq.ParquetWriter, "write_table", real)
    ran = []
    run_experiment(compose(SMALL), job, before_run=ran.append)
    assert not ran
    assert_same_tables(job, small_reference)
