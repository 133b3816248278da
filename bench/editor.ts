/// <reference lib="dom" />
// npm run bench -- editor [--json]: the canvas editor with a 1,000-node, 1,200-edge pipeline in headless Chromium.
// Starts the same stack the e2e tests use (fresh database, next start, one worker), signs up, creates the pipeline
// through the API and measures: time to open the editor until the nodes are on screen; frames per second, and the
// longest frame, while panning with the mouse in the opening view (zoomed out, nodes as cards), then close up (zoom
// 0.7 or more, every node in full), while dragging a node close up, and while zooming out and in with the wheel
// across the far-out threshold; time from Enter in the palette to the painted frame that shows the new node (nothing
// selected), and the new node and its edge (added beside the selected node, connected from it), each the median of
// five; time from releasing the mouse button to the painted frame with an edge drawn by dragging between two ports
// (median of five), and the editor route's first-load JavaScript (every script the HTML loads, gzipped).
// Targets: open ≤ 2 s, pan and zoom ≥ 30 fps, each add ≤ 100 ms, first-load JS ≤ 350 kB gzip.

import { createServer } from "node:net";
import { gzipSync } from "node:zlib";
import { chromium, type Page } from "@playwright/test";
import { startE2EStack, stopE2EStack } from "@sluice/scripts/lib/e2e-stack";

const json = process.argv.includes("--json");
const GROUPS = 100; // 10 nodes and 12 edges each
const ADDS = 5; // of each kind: the figure is their median
const EDGES = 5; // edges drawn with the mouse
/** The zoom below which the canvas draws nodes as cards (FAR_ZOOM in apps/web/src/editor/canvas/canvas.tsx). */
const FAR_ZOOM = 0.4;
/** The nodes of each group, in the order the definition lists them. */
const NODE_ORDER = ["gen_a", "gen_b", "union", "f1", "m1", "f2", "m2", "f3", "out_a", "out_b"];
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** 100 groups of two generators → union → filter → map → filter → map → filter → two consoles. */
function bigDefinition() {
  const nodes: { id: string; type: string; config: Record<string, unknown>; ui: { x: number; y: number } }[] = [];
  const edges: { from: string; to: string }[] = [];
  for (let g = 0; g < GROUPS; g++) {
    const id = (name: string) => `${name}_${g}`;
    const y = g * 260;
    const node = (name: string, type: string, config: Record<string, unknown>, col: number, row = 0) =>
      nodes.push({ id: id(name), type, config, ui: { x: col * 280, y: y + row * 120 } });
    node("gen_a", "source.generator", { rate: 10 }, 0);
    node("gen_b", "source.generator", { rate: 10 }, 0, 1);
    node("union", "transform.union", {}, 1);
    node("f1", "transform.filter", { where: "status = 200" }, 2);
    node("m1", "transform.map", { set: { eur: "amount * 0.92" } }, 3);
    node("f2", "transform.filter", { where: "eur > 10" }, 4);
    node("m2", "transform.map", { set: { big: "eur > 100" } }, 5);
    node("f3", "transform.filter", { where: "big" }, 6);
    node("out_a", "sink.console", {}, 7);
    node("out_b", "sink.console", {}, 7, 1);
    const link = (from: string, to: string) => edges.push({ from: id(from), to: id(to) });
    link("gen_a", "union");
    link("gen_b", "union");
    link("union", "f1");
    link("f1", "m1");
    link("m1", "f2");
    link("f2", "m2");
    link("m2", "f3");
    link("f3", "out_a");
    link("f3", "out_b");
    link("f1", "out_b");
    link("m1", "out_a");
    link("f2", "out_b");
  }
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "bench-editor" },
    spec: { settings: { parallelism: 4, delivery: "exactly-once", batchSize: 1000 }, parameters: [], nodes, edges },
  };
}

async function firstLoadJsKbGzip(baseUrl: string, path: string, cookie: string): Promise<number> {
  const html = await (await fetch(`${baseUrl}${path}`, { headers: { cookie } })).text();
  const sources = [...new Set([...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]!))];
  let bytes = 0;
  for (const src of sources) {
    const body = Buffer.from(await (await fetch(new URL(src, baseUrl))).arrayBuffer());
    bytes += gzipSync(body, { level: 9 }).length;
  }
  return Math.round(bytes / 102.4) / 10;
}

/**
 * Runs `act` and returns the time from the input event it causes to the painted frame that shows the change: the
 * node `nodeId` and the edge `edgeId` on the canvas. The figure is the interaction's time to
 * next paint as the browser's Event Timing reports it (the measure behind Interaction to Next Paint) when the change
 * was complete once the event's handlers had run; a change completed later (an edge React Flow draws only after
 * measuring a new node), or an interaction Event Timing leaves out because it took under 16 ms, is timed from the
 * event's dispatch to the start of the second frame after the change: a little long, never short.
 */
async function timeChange(
  page: Page,
  until: { nodeId?: string; edgeId?: string },
  act: () => Promise<void>,
): Promise<{ ms: number; how: string }> {
  await page.evaluate((until) => {
    const w = window as unknown as { __change: Promise<{ ms: number; how: string }> };
    const done = () =>
      (until.nodeId === undefined || document.querySelector(`[data-testid="node-${until.nodeId}"]`) !== null) &&
      (until.edgeId === undefined ||
        document.querySelector(`.react-flow__edge[data-id="${CSS.escape(until.edgeId)}"]`) !== null);
    w.__change = new Promise((resolve, reject) => {
      const names = new Set(["keydown", "keypress", "click", "pointerup", "mouseup"]);
      const entries: PerformanceEventTiming[] = [];
      // Only events from now on: an earlier one (an Escape before) is reported once its own frame is shown.
      const armedAt = performance.now();
      let completedAt = -1;
      let framesAfter = -1;
      let settled = false;
      // When the event was dispatched: Event Timing reports only events slower than 16 ms to the next paint.
      let dispatchedAt = -1;
      const onEvent = (e: Event) => {
        if (dispatchedAt < 0 && e.timeStamp >= armedAt) dispatchedAt = e.timeStamp;
      };
      for (const name of names) window.addEventListener(name, onEvent, { capture: true });
      const finish = () => {
        const starts = entries.map((e) => e.startTime);
        if (dispatchedAt >= 0) starts.push(dispatchedAt);
        if (completedAt < 0 || starts.length === 0) return;
        const start = Math.min(...starts);
        // The event during whose handling the change was complete: the next paint after it shows the change.
        const during = entries.filter((e) => e.processingStart <= completedAt && completedAt <= e.processingEnd);
        if (during.length > 0) {
          resolve({ ms: Math.max(...during.map((e) => e.startTime + e.duration)) - start, how: "event timing" });
        } else if (settled) {
          resolve({ ms: framesAfter - start, how: "frames" });
        } else return;
        events.disconnect();
        for (const name of names) window.removeEventListener(name, onEvent, { capture: true });
      };
      const events = new PerformanceObserver((list) => {
        for (const e of list.getEntries() as PerformanceEventTiming[]) {
          if (names.has(e.name) && e.startTime >= armedAt) entries.push(e);
        }
        finish();
      });
      events.observe({ type: "event", durationThreshold: 16 } as PerformanceObserverInit);
      const observer = new MutationObserver(() => {
        if (!done()) return;
        observer.disconnect();
        completedAt = performance.now();
        requestAnimationFrame(() =>
          requestAnimationFrame((at) => {
            framesAfter = at;
            // Event Timing reports an event a little after its frame: give it time before falling back.
            setTimeout(() => {
              settled = true;
              finish();
            }, 300);
          }),
        );
        finish();
      });
      observer.observe(document.body, { childList: true, subtree: true });
      setTimeout(() => reject(new Error(`the change did not appear within 10 s: ${JSON.stringify(until)}`)), 10_000);
    });
  }, until);
  await act();
  const { ms, how } = await page.evaluate(
    () => (window as unknown as { __change: Promise<{ ms: number; how: string }> }).__change,
  );
  return { ms: Math.round(ms), how };
}

/**
 * Counts the animation frames the page paints while `act` runs: frames per second, and the longest gap between two
 * frames (a hitch the average hides).
 */
async function framesDuring(page: Page, act: () => Promise<void>): Promise<{ fps: number; worstFrameMs: number }> {
  await page.evaluate(() => {
    const w = window as unknown as {
      __frames: { count: number; last: number; worst: number; on: boolean; t0: number };
    };
    const f = { count: 0, last: -1, worst: 0, on: true, t0: performance.now() };
    w.__frames = f;
    const tick = (at: number) => {
      if (!f.on) return;
      if (f.last >= 0) f.worst = Math.max(f.worst, at - f.last);
      f.last = at;
      f.count++;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await act();
  const { count, worst, seconds } = await page.evaluate(() => {
    const f = (window as unknown as { __frames: { count: number; worst: number; on: boolean; t0: number } }).__frames;
    f.on = false;
    return { count: f.count, worst: f.worst, seconds: (performance.now() - f.t0) / 1000 };
  });
  return { fps: Math.round((count / seconds) * 10) / 10, worstFrameMs: Math.round(worst) };
}

/** Presses the mouse button at `from` and moves along a loop from there for `ms`, then releases it. */
async function dragFor(page: Page, from: { x: number; y: number }, ms: number, reach = { x: 400, y: 300 }) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  const start = Date.now();
  for (let step = 1; Date.now() - start < ms; step++) {
    const angle = step / 15;
    await page.mouse.move(from.x + (Math.sin(angle) * reach.x) / 2, from.y + ((1 - Math.cos(angle)) * reach.y) / 2);
  }
  await page.mouse.up();
}

async function main() {
  const port = await freePort();
  const baseUrl = await startE2EStack(port);
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // tsx (esbuild, keepNames) wraps functions in __name(); the functions page.evaluate sends need it defined there.
    await page.addInitScript("globalThis.__name = (f) => f");
    await page.goto(`${baseUrl}/signup`);
    await page.getByLabel("Name").fill("Bench");
    await page.getByLabel("Email").fill(`bench-${Date.now()}@example.com`);
    await page.getByLabel("Password").fill("a long enough password");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(/\/pipelines$/);

    const definition = bigDefinition();
    const created = await page.evaluate(async (definition) => {
      const res = await fetch("/api/trpc/pipelines.create", {
        method: "POST",
        headers: { "content-type": "application/json" },
        // superjson's wire form, as the app's own client sends it (the definition holds no Dates or other types).
        body: JSON.stringify({ json: { name: "Bench editor", definition } }),
      });
      return (await res.json()) as { result?: { data?: { json?: { id: string } } }; error?: unknown };
    }, definition);
    const id = created.result?.data?.json?.id;
    if (!id) throw new Error(`could not create the pipeline: ${JSON.stringify(created.error)}`);
    const path = `/pipelines/${id}`;

    // Open: from navigation to the nodes on screen. The canvas draws only the nodes in view, and at the smallest zoom
    // the 26,000-unit-tall pipeline does not fit: the view shows its middle, all of it drawn in one commit, so the
    // clock stops when the middle group's nodes are on the page.
    const t0 = Date.now();
    await page.goto(`${baseUrl}${path}`);
    const middle = Math.floor(GROUPS / 2);
    await page.waitForFunction((g) => document.querySelector(`.react-flow__node[data-id="m2_${g}"]`) !== null, middle, {
      timeout: 60_000,
      polling: "raf",
    });
    const openMs = Date.now() - t0;
    const renderedNodes = await page.locator(".react-flow__node").count();
    const renderedEdges = await page.locator(".react-flow__edge").count();
    const nodes = definition.spec.nodes.length;
    const edges = definition.spec.edges.length;

    // Pan: drag the empty pane for about two seconds in the opening view (zoomed out, nodes as cards), counting
    // animation frames.
    const pane = page.locator(".react-flow__pane");
    const box = await pane.boundingBox();
    if (!box) throw new Error("no canvas");
    const pan = await framesDuring(page, () => dragFor(page, { x: box.x + 40, y: box.y + box.height / 3 }, 2000));
    const panFps = pan.fps;

    // Add: Enter on a palette button adds the node; time until the frame that shows it is painted. ADDS adds with
    // nothing selected (Escape first), then ADDS with the node added before still selected, so each goes beside it
    // and is connected from it: those wait for the new edge too. Each figure is the median of its runs; every run is
    // printed, and `timedBy` says how many were timed by Event Timing and how many by counting frames.
    const button = page.getByRole("complementary", { name: "Node palette" }).getByRole("button", {
      name: "Filter",
      exact: true,
    });
    const addRuns: number[] = [];
    const connectedRuns: number[] = [];
    const edgeRuns: number[] = [];
    const timedBy: Record<string, number> = {};
    const count = (how: string) => (timedBy[how] = (timedBy[how] ?? 0) + 1);
    for (let k = 1; k <= 2 * ADDS; k++) {
      const connected = k > ADDS;
      await button.focus();
      if (!connected) await page.keyboard.press("Escape");
      const { ms, how } = await timeChange(
        page,
        connected ? { nodeId: `filter${k}`, edgeId: `filter${k - 1}.out->filter${k}.in` } : { nodeId: `filter${k}` },
        () => page.keyboard.press("Enter"),
      );
      (connected ? connectedRuns : addRuns).push(ms);
      count(how);
    }

    // Draw an edge with the mouse: in group g of the pipeline, from the output of m2 to the input of out_b (a
    // console, which takes any number of edges), for the first EDGES groups. A click on m2's rectangle in the minimap
    // centres the view on it; the wheel then zooms in around it until the view is at 0.7 or more, where both ends
    // are in view. Timed from the release of the button, which is when React Flow connects.
    const paneBox = box;
    const centre = { x: paneBox.x + paneBox.width / 2, y: paneBox.y + paneBox.height / 2 };
    const inPane = (p: { x: number; y: number }) =>
      p.x > paneBox.x && p.x < paneBox.x + paneBox.width && p.y > paneBox.y && p.y < paneBox.y + paneBox.height;
    const zoom = async () =>
      Number(/scale\(([\d.]+)\)/.exec((await page.locator(".react-flow__viewport").getAttribute("style")) ?? "")?.[1]);
    const handleCentre = async (nodeId: string, port: string) => {
      const handle = await page
        .locator(`.react-flow__handle[data-nodeid="${nodeId}"][data-handleid="${port}"]`)
        .boundingBox();
      if (!handle) throw new Error(`no handle ${port} on ${nodeId}`);
      return { x: handle.x + handle.width / 2, y: handle.y + handle.height / 2 };
    };
    for (let g = 0; g < EDGES; g++) {
      const from = `m2_${g}`;
      const to = `out_b_${g}`;
      const onMap = await page
        .locator(".react-flow__minimap-node")
        .nth(NODE_ORDER.indexOf("m2") + g * NODE_ORDER.length)
        .boundingBox();
      if (!onMap) throw new Error(`${from} is not on the minimap`);
      await page.mouse.click(onMap.x + onMap.width / 2, onMap.y + onMap.height / 2);
      await page.waitForTimeout(400); // the view's move to the node
      for (let step = 0; step < 30 && (await zoom()) < 0.7; step++) {
        await page.mouse.move(centre.x, centre.y);
        await page.mouse.wheel(0, -120);
        await page.waitForTimeout(50);
      }
      const a = await handleCentre(from, "out");
      const b = await handleCentre(to, "in");
      if (!inPane(a) || !inPane(b))
        throw new Error(`${from} and ${to} are not both in view: ${JSON.stringify({ a, b })}`);
      await page.mouse.move(a.x, a.y);
      await page.mouse.down();
      await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
      await page.mouse.move(b.x, b.y, { steps: 5 });
      const { ms, how } = await timeChange(page, { edgeId: `${from}.out->${to}.in` }, () => page.mouse.up());
      edgeRuns.push(ms);
      count(how);
    }

    // Close up, where every node shows its summary, badge and ports (the view the edges above left, at 0.7 or more):
    // pan the pane, then drag a node around (its edges follow it), then zoom out and back in across the far-out
    // threshold with the wheel, counting frames for each.
    const closeUpZoom = await zoom();
    const panCloseUp = await framesDuring(page, () => dragFor(page, { x: paneBox.x + 40, y: centre.y }, 2000));
    const visible = await page.evaluate(() => {
      const pane = document.querySelector(".react-flow__pane")!.getBoundingClientRect();
      const node = Array.from(document.querySelectorAll<HTMLElement>(".react-flow__node"))
        .map((n) => n.getBoundingClientRect())
        .find(
          (r) =>
            r.left > pane.left + 250 &&
            r.right < pane.right - 250 &&
            r.top > pane.top + 50 &&
            r.bottom < pane.bottom - 250,
        );
      return node && { x: node.left + node.width / 2, y: node.top + 12 };
    });
    if (!visible) throw new Error("no node in view to drag");
    const nodeDrag = await framesDuring(page, () => dragFor(page, visible, 2000, { x: 300, y: 200 }));
    let crossings = 0;
    const zoomFrames = await framesDuring(page, async () => {
      await page.mouse.move(centre.x, centre.y);
      const start = Date.now();
      let direction = 1; // out first
      let far = (await zoom()) < FAR_ZOOM;
      while (Date.now() - start < 3000) {
        await page.mouse.wheel(0, direction * 120);
        await page.waitForTimeout(16);
        const z = await zoom();
        if (z < FAR_ZOOM !== far) {
          far = z < FAR_ZOOM;
          crossings++;
        }
        if (z < 0.2) direction = -1;
        if (z > 1) direction = 1;
      }
    });
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const addNodeMs = median(addRuns);
    const addConnectedNodeMs = median(connectedRuns);
    const addEdgeMs = median(edgeRuns);

    const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const kb = await firstLoadJsKbGzip(baseUrl, path, cookie);
    const result = {
      nodes,
      edges,
      renderedNodes,
      renderedEdges,
      openMs,
      panFps,
      panWorstFrameMs: pan.worstFrameMs,
      closeUp: {
        zoom: Math.round(closeUpZoom * 100) / 100,
        panFps: panCloseUp.fps,
        panWorstFrameMs: panCloseUp.worstFrameMs,
        dragNodeFps: nodeDrag.fps,
        dragNodeWorstFrameMs: nodeDrag.worstFrameMs,
      },
      zoomFps: zoomFrames.fps,
      zoomWorstFrameMs: zoomFrames.worstFrameMs,
      zoomThresholdCrossings: crossings,
      addNodeMs,
      addConnectedNodeMs,
      addEdgeMs,
      addRuns: { node: addRuns, connected: connectedRuns, edge: edgeRuns },
      timedBy,
      firstLoadJsKbGzip: kb,
    };
    if (json) console.log(JSON.stringify(result));
    else {
      console.log(`editor with ${nodes} nodes, ${edges} edges (${renderedNodes} and ${renderedEdges} in view at open)`);
      console.log(`  open              ${openMs} ms (target ≤ 2000)`);
      console.log(`  pan               ${panFps} fps, worst frame ${pan.worstFrameMs} ms (target ≥ 30)`);
      console.log(
        `  pan close up      ${panCloseUp.fps} fps, worst frame ${panCloseUp.worstFrameMs} ms at zoom ${closeUpZoom} (target ≥ 30)`,
      );
      console.log(`  drag a node       ${nodeDrag.fps} fps, worst frame ${nodeDrag.worstFrameMs} ms (target ≥ 30)`);
      console.log(
        `  zoom in and out   ${zoomFrames.fps} fps, worst frame ${zoomFrames.worstFrameMs} ms, ${crossings} crossings of ${FAR_ZOOM} (target ≥ 30)`,
      );
      console.log(`  add node          ${addNodeMs} ms, median of ${addRuns.join(", ")} (target ≤ 100)`);
      console.log(`  add node + edge   ${addConnectedNodeMs} ms, median of ${connectedRuns.join(", ")} (target ≤ 100)`);
      console.log(`  draw an edge      ${addEdgeMs} ms, median of ${edgeRuns.join(", ")} (target ≤ 100)`);
      console.log(`  first-load JS     ${kb} kB gzip (target ≤ 350)`);
    }
  } finally {
    await browser.close();
    await stopE2EStack();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
