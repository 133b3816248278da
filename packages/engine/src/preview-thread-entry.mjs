// A preview thread's entry point. Sluice runs from its TypeScript sources, and a worker thread does not inherit the
// TypeScript loader its process was started with (`tsx`, `--import tsx` or tsx's register()), so the thread
// registers tsx itself before it loads the preview code.
import { register } from "tsx/esm/api";

register();
await import("./preview-thread.ts");
