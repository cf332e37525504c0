// {{name}}: a corral task.
//
// Args: [DIR], a directory granted with [[task.dir]] at guest path DIR.
// Result: "files=<n> first=<name> bytes=<m>": the number of regular files in
// DIR, the first by name and its size.

import host from "corral:task/host@0.1.2";
import { InvalidInput, grantedDir, listDir, readFile, task } from "./corral_task.js";

export const run = task((call) => {
  // InvalidInput is never retried: use it for what a retry cannot fix.
  const [path] = call.args;
  if (path === undefined || path === "--invalid") {
    throw new InvalidInput(
      `expected args [DIR] (a granted guest directory), got ${JSON.stringify(call.args)}`,
    );
  }

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

  host.log("info", `${path}: ${files} files`);
  return `files=${files} first=${first} bytes=${bytes}`;
});
