import { t } from "../../record-schema";
import { md5Hex, sha256Hex, stableHash53 } from "../hash";
import { defineFunction, type ScalarFunctionDef } from "./define";

// Hashes of a value's text form (CAST(x AS STRING), UTF-8), identical in every runtime and release.

export const HASH_FUNCTIONS: readonly ScalarFunctionDef[] = [
  defineFunction({
    name: "md5",
    category: "hash",
    doc: "MD5 of the value's text as 32 lower-case hex digits.",
    params: ["value: text"],
    returns: t.string,
    impl: (s) => md5Hex(s),
  }),
  defineFunction({
    name: "sha256",
    category: "hash",
    doc: "SHA-256 of the value's text as 64 lower-case hex digits.",
    params: ["value: text"],
    returns: t.string,
    impl: (s) => sha256Hex(s),
  }),
  defineFunction({
    name: "hash",
    category: "hash",
    doc: "Stable non-cryptographic hash of the value's text: the low 53 bits of FNV-1a 64, a non-negative int (use hash(x) % n to bucket).",
    params: ["value: text"],
    returns: t.int,
    impl: (s) => stableHash53(s),
  }),
];
