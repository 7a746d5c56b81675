"""Bundles: finished runs packed in one zip, to train at home and show in class (like Teachable Machine's export).

A bundle holds each run's settings, history, test results, model and the results computed from it (shift
maps, measures), and a manifest saying the format and each run's status and times. Never the runs folder's
own files (the teacher token, the pins) nor a run's live files (status, progress, stop request).

A bundle is untrusted input: every entry must be a file a run ever holds, under a run id the manifest
lists, no larger than its kind ever is. It is unpacked into a hidden folder inside the runs folder, each
run is read as the store reads any run and its model loaded with Keras' `safe_mode`, and only when every
run passes are they moved in: a refused bundle writes nothing outside that folder and imports no run.
"""

import io
import json
import os
import re
import secrets
import shutil
import stat
import time
import zipfile
from pathlib import Path

from mnistviz.errors import MnistvizError
from mnistviz.runs import runfiles
from mnistviz.runs.store import MODEL_FILE, RUN_ID, STAGING, RunRecord, RunStore, atomic_write_bytes
from mnistviz.show import text

FORMAT = 1  # the bundle format this version writes and reads; a newer bundle is refused, never half-read
MANIFEST = "mnistviz-bundle.json"
CARRIED = ("finished", "stopped")  # a run that ended with its model: what a bundle carries
REQUIRED = ("spec.json", "history.json", "evaluation.json", MODEL_FILE)
OPTIONAL = ("test_predictions.npy",)
RESULT = re.compile(r"(shiftmap-step\d{1,2}-samples\d{1,5}|measures-v\d{1,2}-samples\d{1,5}|cross_accuracy)\.json")
MOST_RUNS = 64  # the Lab's grid for every seed is 60 runs
MOST_BYTES = 1024**3  # every file together, as the bundle declares them and as they unpack
MANIFEST_BYTES = 256 * 1024
MODEL_UNPACKED = 256 * 1024**2  # a .keras file's own contents: the largest model's weights are about 20 MB
MODEL_ENTRIES = 16  # config.json, metadata.json, model.weights.h5, and a few assets at most
MODEL_SMALL_FILES = {"config.json": runfiles.MODEL_CONFIG_BYTES, "metadata.json": 64 * 1024}


def _carried(name: str) -> bool:
    return name in REQUIRED or name in OPTIONAL or RESULT.fullmatch(name) is not None


def exportable(record: RunRecord) -> str | None:
    """Why this run cannot go into a bundle, or None when it can."""
    if record.status not in CARRIED:
        return f"it is {record.status}" + (f" ({record.error})" if record.status == "damaged" and record.error else "")
    if not record.has_model:
        return "it has no saved model"
    missing = [name for name in REQUIRED if not (record.folder / name).is_file()]
    return f"it has no {', '.join(missing)}" if missing else None


def export_runs(store: RunStore, run_ids: list[str], out) -> list[str]:
    """Write the bundle of these runs to `out` (a path, replaced atomically, or a writable binary file).

    Every run is checked first (all or nothing); the ids exported, in order.
    """
    run_ids = list(dict.fromkeys(run_ids))
    if not run_ids:
        raise MnistvizError("no runs to export: name at least one run id")
    if len(run_ids) > MOST_RUNS:
        raise MnistvizError(f"a bundle holds at most {MOST_RUNS} runs, not {len(run_ids)}")
    records = [store.load(run_id) for run_id in run_ids]
    refused = [f"{record.run_id} ({reason})" for record in records if (reason := exportable(record))]
    if refused:
        raise MnistvizError("cannot export " + "; ".join(refused) + ": nothing was written")
    if isinstance(out, str | Path):
        buffer = io.BytesIO()
        _write(records, buffer)
        try:
            atomic_write_bytes(Path(out), buffer.getvalue())
        except OSError as error:
            raise MnistvizError(f"cannot write {Path(out).name} ({error.strerror or error})") from error
    else:
        _write(records, out)
    return run_ids


def _write(records: list[RunRecord], out) -> None:
    manifest = {"format": FORMAT, "made": time.time(), "runs": [_manifest_entry(record) for record in records]}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        for record in records:
            for path in sorted(record.folder.iterdir()):
                if path.is_file() and not path.is_symlink() and _carried(path.name):
                    compression = zipfile.ZIP_STORED if path.name == MODEL_FILE else zipfile.ZIP_DEFLATED
                    archive.write(path, f"{record.run_id}/{path.name}", compress_type=compression)


def _manifest_entry(record: RunRecord) -> dict:
    return {
        "run_id": record.run_id,
        "status": record.status,
        "error": record.error or None,
        **record.timing,
        "model_stamp": record.model_path.stat().st_mtime_ns,  # the saved results name the model they come from
    }


def import_bundle(store: RunStore, source) -> list[str]:
    """Bring a bundle's runs into `store` (all or none); the run ids imported. `source`: a path or binary file."""
    name = Path(source).name if isinstance(source, str | Path) else "the bundle"
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as error:
        raise MnistvizError(f"{name} is not a bundle of mnistviz runs ({error})") from error
    with archive:
        entries = _check_entries(archive)
        runs = _manifest(archive, entries)
        _check_files(entries, runs)
        store._ensure_root()
        staging = store.root / f"{STAGING}{secrets.token_hex(4)}"
        try:
            staging.mkdir()
            for run in runs.values():
                _unpack(archive, entries, run, staging)
            _check_runs(RunStore(staging), runs)
            return _move_in(store, staging, list(runs))
        except OSError as error:
            raise MnistvizError(
                f"cannot import into the runs folder ({error.strerror or error}): nothing imported"
            ) from error
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _check_entries(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Every entry of the zip by name, once each plain file of its kind's size: anything else refuses the bundle."""
    infos = archive.infolist()
    if len(infos) > 1 + MOST_RUNS * (len(REQUIRED) + len(OPTIONAL) + 16):
        raise MnistvizError(f"the bundle holds {len(infos):,} files, far more than runs ever have: nothing imported")
    entries, total = {}, 0
    for info in infos:
        shown = info.filename[:80]
        if stat.S_ISLNK(info.external_attr >> 16):
            raise MnistvizError(f"the bundle holds a link, {shown!r}: nothing imported")
        if info.filename in entries:
            raise MnistvizError(f"the bundle holds {shown!r} twice: nothing imported")
        if info.filename != MANIFEST:
            parts = info.filename.split("/")
            if len(parts) != 2 or not RUN_ID.fullmatch(parts[0]) or not _carried(parts[1]):
                raise MnistvizError(f"the bundle holds {shown!r}, which is no file of a run: nothing imported")
        limit = MANIFEST_BYTES if info.filename == MANIFEST else runfiles.most_bytes(Path(info.filename))
        if info.file_size > limit:
            raise MnistvizError(
                f"{shown} is {info.file_size / 1024**2:,.0f} MB, larger than such a file ever is: nothing imported"
            )
        total += info.file_size
        if total > MOST_BYTES:
            raise MnistvizError("the bundle unpacks to over 1 GB, more than any runs need: nothing imported")
        entries[info.filename] = info
    return entries


def _manifest(archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo]) -> dict[str, dict]:
    """The manifest's runs by id, each with a status the store can read; a bundle without one is refused."""
    if MANIFEST not in entries:
        raise MnistvizError(f"the bundle has no {MANIFEST}: it was not made by mnistviz export")
    try:
        manifest = json.loads(_read(archive, entries[MANIFEST], MANIFEST_BYTES))
    except (ValueError, RecursionError) as error:
        raise MnistvizError(f"the bundle's {MANIFEST} is unreadable ({type(error).__name__})") from error
    version = manifest.get("format") if isinstance(manifest, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT:
        raise MnistvizError(
            f"the bundle is of format {version}, made by a newer mnistviz (this one reads format {FORMAT}): "
            "update mnistviz to import it"
        )
    if version != FORMAT or not isinstance(manifest.get("runs"), list):
        raise MnistvizError(f"the bundle's {MANIFEST} is not a manifest of format {FORMAT}")
    runs = {}
    for entry in manifest["runs"][: MOST_RUNS + 1]:
        run_id = entry.get("run_id") if isinstance(entry, dict) else None
        if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id) or run_id in runs:
            raise MnistvizError(f"the bundle's {MANIFEST} lists {str(run_id)[:80]!r}, not a run id once")
        if entry.get("status") not in CARRIED:
            raise MnistvizError(f"run {run_id} of the bundle is {str(entry.get('status'))[:20]!r}, not finished")
        try:
            runfiles.status(entry)  # the times and error a status.json may hold
        except MnistvizError as error:
            raise MnistvizError(f"run {run_id} of the bundle: {error}") from error
        runs[run_id] = entry
    if not runs:
        raise MnistvizError("the bundle holds no runs")
    if len(runs) > MOST_RUNS:
        raise MnistvizError(f"the bundle holds over {MOST_RUNS} runs: nothing imported")
    return runs


def _check_files(entries: dict[str, zipfile.ZipInfo], runs: dict[str, dict]) -> None:
    listed = {name.split("/")[0] for name in entries if name != MANIFEST}
    stray = sorted(listed - set(runs))
    if stray:
        raise MnistvizError(f"the bundle holds files of {stray[0]}, a run its manifest does not list")
    for run_id in runs:
        missing = [name for name in REQUIRED if f"{run_id}/{name}" not in entries]
        if missing:
            raise MnistvizError(f"run {run_id} of the bundle has no {', '.join(missing)}: nothing imported")


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """An entry's bytes, never more than `limit` whatever its header says (a zip bomb lies)."""
    try:
        with archive.open(info) as entry:
            content = entry.read(limit + 1)
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as error:
        raise MnistvizError(f"{info.filename[:80]} in the bundle is unreadable ({error})") from error
    if len(content) > limit:
        raise MnistvizError(f"{info.filename[:80]} unpacks larger than such a file ever is: nothing imported")
    return content


def _unpack(archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], run: dict, staging: Path) -> None:
    """Write one run's files into the staging folder, and the status.json that says it was imported."""
    run_id = run["run_id"]
    folder = staging / run_id
    folder.mkdir()
    for name, info in entries.items():
        if name.startswith(f"{run_id}/"):
            file = name.split("/")[1]
            (folder / file).write_bytes(_read(archive, info, runfiles.most_bytes(Path(file))))
    stamp = run.get("model_stamp")
    if isinstance(stamp, int) and not isinstance(stamp, bool) and 0 < stamp < 2**63:
        os.utime(folder / MODEL_FILE, ns=(stamp, stamp))  # the saved shift maps and measures stay those of this model
    times = {key: run.get(key) for key in ("created", "started", "ended")}
    error = text.clean(run["error"])[:1000] if isinstance(run.get("error"), str) else None  # no terminal codes
    status = {"status": run["status"], "error": error, **times, "imported": time.time()}
    (folder / "status.json").write_text(json.dumps(status))


def _check_runs(staged: RunStore, runs: dict[str, dict]) -> None:
    """Read each staged run as the store reads any run, and load its model as Draw does: with `safe_mode`."""
    import keras  # only an import that got this far needs TensorFlow

    from mnistviz.learning import models

    for run_id in runs:
        record = staged.load(run_id)
        if record.status == "damaged":
            raise MnistvizError(f"run {run_id} of the bundle is damaged ({record.error}): nothing imported")
        spec = record.spec
        named = RUN_ID.fullmatch(run_id)
        if (named.group(1), named.group(2)) != (spec.arch, spec.data):
            raise MnistvizError(
                f"run {run_id} of the bundle holds a {spec.arch.upper()} on {spec.data} digits, not what its id "
                "says: nothing imported"
            )
        if record.epochs_done > spec.epochs:
            raise MnistvizError(
                f"run {run_id} of the bundle has {record.epochs_done:,} epochs in its history, more than the "
                f"{spec.epochs} it was set to train: nothing imported"
            )
        _check_model_archive(run_id, record.model_path)
        try:
            model = keras.saving.load_model(record.model_path, safe_mode=True, compile=False)
        except Exception as error:  # a forged archive fails in many ways inside Keras
            said = str(error).replace(str(staged.root), "").strip()
            reason = said.splitlines()[0].split(". ")[0][:200] if said else ""  # its first sentence
            raise MnistvizError(
                f"run {run_id} of the bundle has a model that does not load safely "
                f"({type(error).__name__}: {reason}): nothing imported"
            ) from error
        problem = models.loaded_model_problem(model, spec.arch, spec.image_size)  # as Draw checks each model
        if problem:
            raise MnistvizError(f"run {run_id} of the bundle cannot be used: {problem}; nothing imported")


def _check_model_archive(run_id: str, path: Path) -> None:
    """A .keras file is a zip too: what it declares must fit a model of ours before Keras unpacks it (a zip bomb
    inside the model would otherwise fill the disk or memory while loading)."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as error:
        raise MnistvizError(f"run {run_id} of the bundle has a model file that is no Keras model ({error})") from error
    declared = sum(info.file_size for info in infos)
    for info in infos:  # Keras reads these whole before it refuses anything: bounded like a run's own files
        limit = MODEL_SMALL_FILES.get(info.filename)
        if limit is not None and info.file_size > limit:
            raise MnistvizError(
                f"run {run_id} of the bundle has a model whose {info.filename} is {info.file_size / 1024**2:,.1f} MB, "
                "far larger than any model of mnistviz: nothing imported"
            )
    if len(infos) > MODEL_ENTRIES or declared > MODEL_UNPACKED:
        raise MnistvizError(
            f"run {run_id} of the bundle has a model that unpacks to {declared / 1024**2:,.0f} MB in {len(infos)} "
            "files, far more than any model of mnistviz: nothing imported"
        )


def _move_in(store: RunStore, staging: Path, run_ids: list[str]) -> list[str]:
    """Move every checked run into the runs folder; if one cannot go, those moved go back out (all or none)."""
    here = [run_id for run_id in run_ids if os.path.lexists(store.folder(run_id))]
    if here:
        raise MnistvizError(
            f"run {here[0]} is here already"
            + (f" (and {len(here) - 1} more of the bundle)" if len(here) > 1 else "")
            + ": delete it first to bring the bundle's copy; nothing imported"
        )
    moved = []
    try:
        for run_id in run_ids:
            target = store.folder(run_id)
            if os.path.lexists(target):  # made meanwhile
                raise MnistvizError(f"run {run_id} appeared in the runs folder meanwhile: nothing imported")
            os.rename(staging / run_id, target)
            moved.append(run_id)
    except BaseException:
        for run_id in moved:
            shutil.rmtree(store.folder(run_id), ignore_errors=True)
        raise
    return moved
