import { z } from "zod";

// Plain zod, safe in the browser: shared by the pipeline, run and schedule schemas without a cycle between them.

/** Versions are PostgreSQL `integer`s: a number past 2³¹ - 1 is refused here rather than by the database. */
export const MAX_VERSION = 2_147_483_647;

/** A version number as a pipeline's history counts them, from 1. */
export const VersionNumber = z.number().int().min(1).max(MAX_VERSION, `a version number is at most ${MAX_VERSION}`);
