// Maps JavaScript errors onto corral's task contract (wit/task.wit), reads
// the granted directories through wasi:filesystem, and keeps private state
// with the change feed of corral:task/incremental (the `task-js` world,
// wit/task-js.wit: corral:task/files is not reachable from QuickJS yet).
//
//   import { InvalidInput, task, grantedDir, listDir, readFile } from "./corral_task.js";
//   export const run = task((call) => { ... });
//
// - grantedDir(path): the granted directory at a guest path, a descriptor;
// - listDir(dir): its entries, { name, type }, sorted by name;
// - readFile(dir, path), readText(dir, path): a file's bytes or text;
// - cursor(), changesSince(cursor): the change feed, { tag: "known", val:
//   paths } or { tag: "unknown", val: why };
// - readState(name), writeState(name, text), removeState(name): files in the
//   task's private state directory. State is a hint: a task must check what
//   it reads, and a run that cannot bring its state up to date with its
//   cursor must remove it.
//
// Inside a function wrapped with `task`:
// - `throw new InvalidInput(msg)` fails with invalid-input(msg): never retried;
//   for input or grants that a retry cannot fix.
// - `throw new TaskError(msg)` fails with error(msg): retried while the task's
//   `retries` remain.
// - anything else thrown fails with error("<Name>: <message>") after its stack
//   is logged through the host at error level. (Unwrapped, any throw other
//   than a { tag, val } failure traps the component.)
//
// WASI calls that fail throw an Error whose `payload` is the error code
// ("no-entry", "not-directory", ...); the helpers below turn those into
// TaskError or InvalidInput with the path in the message.
//
// QuickJS has no `console`; this module installs one that logs through the host.

import host from "corral:task/host@0.1.3";
import incremental from "corral:task/incremental@0.1.3";
import preopens from "wasi:filesystem/preopens@0.2.12";

/** The input or environment is wrong; corral never retries it. */
export class InvalidInput extends Error {
  constructor(message) {
    super(message);
    this.name = "InvalidInput";
  }
}

/** The task failed; corral retries it while retries remain. */
export class TaskError extends Error {
  constructor(message, code) {
    super(message);
    this.name = "TaskError";
    /** The WASI error code, when a filesystem call failed. */
    this.code = code;
  }
}

/** Wraps a `run(call)` implementation so every throw becomes a failure. */
export function task(run) {
  return function (call) {
    try {
      return run(call);
    } catch (e) {
      throw failure(e);
    }
  };
}

function failure(e) {
  if (e instanceof InvalidInput) return { tag: "invalid-input", val: e.message };
  if (e instanceof TaskError) return { tag: "error", val: e.message };
  if (e && (e.tag === "error" || e.tag === "invalid-input") && typeof e.val === "string") {
    return e;
  }
  const summary = e instanceof Error ? `${e.name}: ${e.message}` : `thrown: ${String(e)}`;
  host.log("error", e instanceof Error && e.stack ? `${summary}\n${e.stack.trimEnd()}` : summary);
  return { tag: "error", val: summary };
}

const LEVELS = { debug: "debug", log: "info", info: "info", warn: "warn", error: "error" };
if (typeof globalThis.console === "undefined") {
  const console = {};
  for (const [method, level] of Object.entries(LEVELS)) {
    console[method] = (...args) => host.log(level, args.map(String).join(" "));
  }
  globalThis.console = console;
}

function normalize(path) {
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) throw new InvalidInput(`${path}: '..' is not allowed`);
  return { absolute: path.startsWith("/"), parts };
}

/**
 * The directory granted at guest path `path` (an exact `[[task.dir]]` guest
 * path, or a directory under one), as a wasi:filesystem descriptor. Throws
 * InvalidInput when no grant covers it or it is not a directory.
 */
export function grantedDir(path) {
  const want = normalize(path);
  if (!want.absolute) {
    throw new InvalidInput(`${path} is not a granted directory: guest paths are absolute`);
  }
  let best = null;
  for (const [descriptor, guest] of preopens.getDirectories()) {
    const { parts } = normalize(guest);
    const covers = parts.every((part, i) => want.parts[i] === part);
    if (covers && (best === null || parts.length > best.parts.length)) {
      best = { descriptor, parts };
    }
  }
  if (best === null) {
    throw new InvalidInput(`${path} is not a granted directory (grant it with [[task.dir]])`);
  }
  const rest = want.parts.slice(best.parts.length).join("/");
  if (rest === "") return best.descriptor;
  try {
    return best.descriptor.openAt({}, rest, { directory: true }, { read: true });
  } catch (e) {
    throw new InvalidInput(`${path}: ${e.payload ?? e.message}`);
  }
}

/**
 * The entries of directory descriptor `dir`, sorted by name:
 * [{ name, type }] with type "regular-file", "directory", "symbolic-link", ...
 */
export function listDir(dir) {
  const entries = [];
  try {
    const stream = dir.readDirectory();
    for (let entry; (entry = stream.readDirectoryEntry()) != null; ) entries.push(entry);
  } catch (e) {
    throw new TaskError(`cannot list directory: ${e.payload ?? e.message}`, e.payload);
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The bytes of file `path` (relative to directory descriptor `dir`), as a Uint8Array. */
export function readFile(dir, path) {
  let file;
  try {
    file = dir.openAt({}, path, {}, { read: true });
    const chunks = [];
    let size = 0;
    for (;;) {
      const [chunk, end] = file.read(65536, size);
      chunks.push(chunk);
      size += chunk.length;
      if (end || chunk.length === 0) break;
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return bytes;
  } catch (e) {
    if (e instanceof Error && "payload" in e) {
      throw new TaskError(`${path}: ${e.payload}`, e.payload);
    }
    throw e;
  } finally {
    file?.[Symbol.dispose]?.();
  }
}

/** File `path` decoded as UTF-8 (malformed bytes become U+FFFD); QuickJS has no TextDecoder. */
export function readText(dir, path) {
  return decodeUtf8(readFile(dir, path));
}

function decodeUtf8(bytes) {
  let out = "";
  let codes = [];
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const len = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    let cp = len === 1 ? b : len === 2 ? b & 0x1f : len === 3 ? b & 0x0f : b & 0x07;
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) {
      const c = bytes[i + k];
      ok = (c & 0xc0) === 0x80;
      cp = (cp << 6) | (c & 0x3f);
    }
    const min = [0, 0, 0x80, 0x800, 0x10000][len];
    if (!ok || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
      codes.push(0xfffd);
      i += 1;
    } else {
      codes.push(cp);
      i += len;
    }
    if (codes.length >= 4096) {
      out += String.fromCodePoint(...codes);
      codes = [];
    }
  }
  return out + String.fromCodePoint(...codes);
}

/** Where this run's view of its files begins; keep it with what it computes. */
export function cursor() {
  return incremental.cursor();
}

/**
 * What changed under the task's grants since `earlier` (a cursor of an
 * earlier run): { tag: "known", val: [absolute guest paths] } or
 * { tag: "unknown", val: why }: then examine everything.
 */
export function changesSince(earlier) {
  return incremental.changesSince(earlier);
}

/** The private state file `name` as text, or null if it is missing or unreadable. */
export function readState(name) {
  try {
    return readText(grantedDir(incremental.stateDir()), name);
  } catch {
    return null;
  }
}

/**
 * Replaces the private state file `name` with `text` whole: written beside
 * it, then renamed over it, so a run that dies half-way leaves the old file.
 * A failure removes the old file, which no longer matches.
 */
export function writeState(name, text) {
  const dir = grantedDir(incremental.stateDir());
  let file;
  try {
    file = dir.openAt({}, `${name}.tmp`, { create: true, truncate: true }, { write: true });
    const bytes = encodeUtf8(text);
    for (let at = 0; at < bytes.length; ) at += Number(file.write(bytes.subarray(at), at));
    file[Symbol.dispose]?.();
    file = undefined;
    dir.renameAt(`${name}.tmp`, dir, name);
  } catch {
    file?.[Symbol.dispose]?.();
    removeState(name);
  }
}

/** Removes the private state file `name`, if it is there. */
export function removeState(name) {
  try {
    grantedDir(incremental.stateDir()).unlinkFileAt(name);
  } catch {
    // Already gone.
  }
}

function encodeUtf8(text) {
  const bytes = [];
  for (const char of text) {
    const cp = char.codePointAt(0);
    if (cp < 0x80) bytes.push(cp);
    else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else bytes.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return new Uint8Array(bytes);
}
