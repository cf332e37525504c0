"""Maps Python exceptions onto corral's task contract (wit/task.wit).

    from corral_task import InvalidInput, TaskError, task

    class WitWorld(wit_world.WitWorld):
        @task
        def run(self, call):
            ...

Inside a function wrapped with ``task``:

- ``raise InvalidInput(msg)`` fails with ``invalid-input(msg)``: never retried;
  for input or grants that a retry cannot fix.
- ``raise TaskError(msg)`` fails with ``error(msg)``: retried while the task's
  ``retries`` remain.
- any other exception fails with ``error("<Type>: <message>")`` after its
  traceback is logged through the host at error level.

It also wraps the imports of the ``task-dirs`` world (wit/task-dirs.wit):

- ``granted_dir(path)``: the granted directory at guest path ``path`` (or
  under one) as a descriptor, which ``corral:task/files`` calls take;
- ``list_dir(path)``: its entries with their ``lstat`` data, sorted by name,
  in one host call (``files.list_dir``; ``files.stat_names`` and
  ``files.digest_names`` batch likewise);
- ``cursor()``, ``changes_since(cursor)``: the change feed
  (``corral:task/incremental``): ``Changes_Known(paths)`` or
  ``Changes_Unknown(why)``;
- ``read_state(name)``, ``write_state(name, data)``, ``remove_state(name)``:
  files in the task's private state directory. State is a hint: a task
  must check what it reads, and a run that cannot bring its state up to
  date with its cursor must remove it.
"""

import functools
import os
import traceback

from componentize_py_types import Err
from wit_world.imports import files, host, incremental, preopens, wasi_filesystem_types
from wit_world.imports.corral_task_types import Failure_Error, Failure_InvalidInput
from wit_world.imports.incremental import Changes_Known, Changes_Unknown, cursor

__all__ = [
    "Changes_Known",
    "Changes_Unknown",
    "InvalidInput",
    "TaskError",
    "changes_since",
    "cursor",
    "granted_dir",
    "list_dir",
    "read_state",
    "remove_state",
    "task",
    "write_state",
]


class InvalidInput(Exception):
    """The input or environment is wrong; corral never retries it."""


class TaskError(Exception):
    """The task failed; corral retries it while retries remain."""


def task(run):
    """Wraps a ``run`` implementation so every exception becomes a failure."""

    @functools.wraps(run)
    def wrapper(*args, **kwargs):
        try:
            return run(*args, **kwargs)
        except Err:
            raise  # already a failure variant
        except InvalidInput as e:
            raise Err(Failure_InvalidInput(str(e)))
        except TaskError as e:
            raise Err(Failure_Error(str(e)))
        except Exception as e:
            host.log(host.Level.ERROR, traceback.format_exc().rstrip())
            raise Err(Failure_Error(f"{type(e).__name__}: {e}"))

    return wrapper


def granted_dir(path: str):
    """The directory granted at guest path ``path`` (an exact ``[[task.dir]]``
    guest path, or a directory under one) as a descriptor; raises
    InvalidInput when no grant covers it or it is not a directory."""
    want = path.rstrip("/")
    best = None
    for descriptor, root in preopens.get_directories():
        root = root.rstrip("/")
        if want == root or want.startswith(root + "/"):
            if best is None or len(root) > len(best[1]):
                best = (descriptor, root)
    if best is None:
        raise InvalidInput(f"{path} is not a granted directory (grant it with [[task.dir]])")
    descriptor, root = best
    rest = want[len(root) :].lstrip("/")
    if not rest:
        return descriptor
    types = wasi_filesystem_types
    try:
        return descriptor.open_at(
            types.PathFlags(0),
            rest,
            types.OpenFlags.DIRECTORY,
            types.DescriptorFlags.READ,
        )
    except Err as e:
        raise InvalidInput(f"{path}: {e.value}") from e


def list_dir(path: str) -> list:
    """The entries of the granted directory ``path`` with their ``lstat``
    data (``files.DirEntry``: ``name``, ``stat.type``, ``stat.size``,
    ``stat.mtime``, ...), sorted by name, from one host call."""
    try:
        return files.list_dir(granted_dir(path))
    except Err as e:
        raise TaskError(f"{path}: {e.value}") from e


def changes_since(earlier: str):
    """What changed under the task's grants since cursor ``earlier`` (one
    ``cursor()`` returned at an earlier run): ``Changes_Known(paths)``,
    absolute guest paths at or below which anything may have changed, or
    ``Changes_Unknown(why)``: examine everything."""
    return incremental.changes_since(earlier)


def read_state(name: str) -> bytes | None:
    """The private state file ``name``, or None if it is missing or unreadable."""
    try:
        with open(os.path.join(incremental.state_dir(), name), "rb") as f:
            return f.read()
    except OSError:
        return None


def write_state(name: str, data: bytes) -> None:
    """Replaces the private state file ``name`` whole: written beside it,
    then renamed over it, so a run that dies half-way leaves the old file.
    A failure removes the old file, which no longer matches."""
    path = os.path.join(incremental.state_dir(), name)
    try:
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
    except OSError:
        remove_state(name)


def remove_state(name: str) -> None:
    """Removes the private state file ``name``, if it is there."""
    try:
        os.remove(os.path.join(incremental.state_dir(), name))
    except OSError:
        pass
