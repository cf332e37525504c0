"""{{name}}: a corral task.

Args: [DIR], a directory granted with [[task.dir]] at guest path DIR.
Result: "files=<n> first=<name> bytes=<m>": the number of regular files in
DIR, the first by name and its size.
"""

import os

import wit_world
from wit_world.imports import host
from wit_world.imports.types import Invocation

from corral_task import InvalidInput, TaskError, task


class WitWorld(wit_world.WitWorld):
    @task
    def run(self, call: Invocation) -> str:
        # InvalidInput is never retried: use it for what a retry cannot fix.
        if not call.args or call.args[0] == "--invalid":
            raise InvalidInput(
                f"expected args [DIR] (a granted guest directory), got {call.args!r}"
            )
        root = call.args[0]

        host.segment_start("scan")
        try:
            files, first, size = scan(root)
        finally:
            host.segment_end("scan")

        host.log(host.Level.INFO, f"{root}: {files} files")
        return f"files={files} first={first} bytes={size}"


def scan(root: str) -> tuple[int, str, int]:
    """Counts the regular files in root and reads the first one by name."""
    # The filesystem shows only the granted directories, at their guest paths.
    try:
        with os.scandir(root) as entries:
            names = sorted(e.name for e in entries if e.is_file(follow_symlinks=False))
    except (FileNotFoundError, NotADirectoryError, PermissionError) as e:
        raise InvalidInput(f"{root} is not a granted directory: {e}") from e
    except OSError as e:
        raise TaskError(f"{root}: {e}") from e
    if not names:
        return 0, "-", 0
    with open(os.path.join(root, names[0]), "rb") as f:
        return len(names), names[0], len(f.read())
