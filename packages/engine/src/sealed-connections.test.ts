import { runConnectionsPayload } from "@sluice/nodes/destination-policy";
import { SecretKeyError, sealJson, secretKeyId } from "@sluice/pipeline/control/secret-box";
import { describe, expect, it } from "vitest";
import { openSealedConnections } from "./sealed-connections";

const A = crypto.getRandomValues(new Uint8Array(32));
const B = crypto.getRandomValues(new Uint8Array(32));
const bundle = { warehouse: { type: "postgres", config: { host: "db", password: "s3cret" }, secrets: ["password"] } };

describe("a worker opening a run's connections", () => {
  it("opens a bundle sealed under a previous key of its ring", async () => {
    const box = await sealJson(A, runConnectionsPayload(bundle, []), "run:r1");
    const opened = await openSealedConnections(undefined, {
      box,
      secretKey: { current: B, previous: [A] },
      context: "run:r1",
    });
    expect(opened.connections).toEqual(bundle);
  });

  it("says which run's bundle needs which key when it lacks that key, never the secrets", async () => {
    const box = await sealJson(A, runConnectionsPayload(bundle, []), "run:r1");
    const err = await openSealedConnections(undefined, { box, secretKey: B, context: "run:r1" }).catch((e) => e);
    expect(err).toBeInstanceOf(SecretKeyError);
    expect((err as Error).message).toBe(
      `cannot open the connections sealed for run:r1: it was sealed with key ${await secretKeyId(A)}, which is neither SLUICE_SECRET_KEY nor one of SLUICE_SECRET_KEY_PREVIOUS`,
    );
  });
});
