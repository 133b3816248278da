import fc from "fast-check";

// Property tests draw their cases from a fixed seed so a CI run is reproducible: a failure means a change
// broke something, not that today's dice found an old bug. FC_SEED=random explores new cases locally;
// FC_SEED=<n> replays a reported failure.
const seed = process.env.FC_SEED;
if (seed !== "random") fc.configureGlobal({ seed: seed ? Number(seed) : 20_261_124 });
