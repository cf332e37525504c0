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
"""

import functools
import traceback

from componentize_py_types import Err
from wit_world.imports import host
from wit_world.imports.types import Failure_Error, Failure_InvalidInput


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
