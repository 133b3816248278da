// Passwords `npm start` generates once and keeps in .sluice/ (owner-only files), so the embedded PostgreSQL and the
// private redis-server keep accepting the app across restarts. Node builtins only: this runs before `npm ci`.

import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * The secret kept in `file`, made (hex, `bytes` random bytes) when the file is missing or empty. `created` says it
 * is new, so a server that holds the old one must be told. A file others may read is made owner-only again.
 * @param {string} file @param {{ bytes?: number }} [options]
 * @returns {{ value: string, created: boolean }}
 */
export function storedSecret(file, { bytes = 24 } = {}) {
  if (existsSync(file)) {
    const value = readFileSync(file, "utf8").trim();
    if (value) {
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
      return { value, created: false };
    }
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const value = randomBytes(bytes).toString("hex");
  writePrivateFile(file, `${value}\n`);
  return { value, created: true };
}

/**
 * Writes `text` to `file`, readable by the owner only, also when the file was there before.
 * @param {string} file @param {string} text
 */
export function writePrivateFile(file, text) {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600); // the mode above only applies when the file is created
}
