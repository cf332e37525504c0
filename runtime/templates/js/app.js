// {{name}}: a corral task.
//
// Args: [DIR], a directory granted with [[task.dir]] at guest path DIR.
// Result: "files=<n> first=<name> bytes=<m>": the number of regular files in
// DIR, the first by name and its size.
//
// It keeps its run count and change-feed cursor in its private state
// (corral:task/incremental), logging what changed since its last run: the
// pattern of a task that redoes only what changed.

import host from "corral:task/host@0.1.3";
import {
  InvalidInput,
  changesSince,
  cursor,
  grantedDir,
  listDir,
  readFile,
  readState,
  task,
  writeState,
} from "./corral_task.js";

export const run = task((call) => {
  // InvalidInput is never retried: use it for what a retry cannot fix.
  const [path] = call.args;
  if (path === undefined || path === "--invalid") {
    throw new InvalidInput(
      `expected args [DIR] (a granted guest directory), got ${JSON.stringify(call.args)}`,
    );
  }
  // Taken before the task looks at anything: what changes from now on is in
  // the next run's feed.
  const now = cursor();

  host.segmentStart("scan");
  let files, first, bytes;
  try {
    const dir = grantedDir(path);
    const names = listDir(dir)
      .filter((entry) => entry.type === "regular-file")
      .map((entry) => entry.name);
    files = names.length;
    first = names[0] ?? "-";
    bytes = files > 0 ? readFile(dir, first).length : 0;
  } finally {
    host.segmentEnd("scan");
  }

  const [runs, changes] = remember(now);
  host.log("info", `${path}: ${files} files; run ${runs} with this state; changes: ${changes}`);
  return `files=${files} first=${first} bytes=${bytes}`;
});

// This run's number and what changed since the last run, from the private
// state (`last`: "<runs> <cursor>"), which then records this run. State is a
// hint: anything missing or unreadable counts as no earlier run.
function remember(now) {
  const last = readState("last") ?? "";
  const space = last.indexOf(" ");
  const earlier = Number.parseInt(last.slice(0, space), 10);
  let runs = 1;
  let changes = "unknown (no earlier run)";
  if (space > 0 && Number.isSafeInteger(earlier)) {
    const feed = changesSince(last.slice(space + 1));
    runs = earlier + 1;
    changes = feed.tag === "known" ? `${feed.val.length} paths` : `unknown (${feed.val})`;
  }
  writeState("last", `${runs} ${now}`);
  return [runs, changes];
}
