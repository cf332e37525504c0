"""{{name}}: a corral task.

Args: [DIR], a directory granted with [[task.dir]] at guest path DIR.
Result: "files=<n> first=<name> bytes=<m>": the number of regular files in
DIR, the first by name and its size.

It lists DIR with corral:task/files (names and lstat data in one host
call) and keeps its run count and change-feed cursor in its private state
(corral:task/incremental), logging what changed since its last run: the
pattern of a task that redoes only what changed.
"""

import wit_world
from wit_world.imports import host
from wit_world.imports.corral_task_types import Invocation
from wit_world.imports.wasi_filesystem_types import DescriptorType

from corral_task import (
    Changes_Known,
    InvalidInput,
    TaskError,
    changes_since,
    cursor,
    list_dir,
    read_state,
    task,
    write_state,
)


class WitWorld(wit_world.WitWorld):
    @task
    def run(self, call: Invocation) -> str:
        # InvalidInput is never retried: use it for what a retry cannot fix.
        if not call.args or call.args[0] == "--invalid":
            raise InvalidInput(
                f"expected args [DIR] (a granted guest directory), got {call.args!r}"
            )
        root = call.args[0]
        # Taken before the task looks at anything: what changes from now on
        # is in the next run's feed.
        now = cursor()

        host.segment_start("scan")
        try:
            files, first, size = scan(root)
        finally:
            host.segment_end("scan")

        runs, changes = remember(now)
        host.log(
            host.Level.INFO,
            f"{root}: {files} files; run {runs} with this state; changes: {changes}",
        )
        return f"files={files} first={first} bytes={size}"


def scan(root: str) -> tuple[int, str, int]:
    """Counts the regular files in root and reads the first one by name."""
    names = [e.name for e in list_dir(root) if e.stat.type == DescriptorType.REGULAR_FILE]
    if not names:
        return 0, "-", 0
    # Python's own files see the granted directories at their guest paths too.
    path = f"{root.rstrip('/')}/{names[0]}"
    try:
        with open(path, "rb") as f:
            return len(names), names[0], len(f.read())
    except OSError as e:
        raise TaskError(f"{path}: {e}") from e


def remember(now: str) -> tuple[int, str]:
    """This run's number and what changed since the last run, from the
    private state (`last`: "<runs> <cursor>"), which then records this run.
    State is a hint: anything missing or unreadable counts as no earlier run."""
    runs, _, earlier = (read_state("last") or b"").decode(errors="replace").partition(" ")
    if not runs.isdigit() or not earlier:
        runs, changes = 1, "unknown (no earlier run)"
    else:
        feed = changes_since(earlier)
        runs = int(runs) + 1
        if isinstance(feed, Changes_Known):
            changes = f"{len(feed.value)} paths"
        else:
            changes = f"unknown ({feed.value})"
    write_state("last", f"{runs} {now}".encode())
    return runs, changes
