import { expect, type Page, test } from "@playwright/test";
import { createPipeline, palette, signUp } from "./support";

// How the canvas draws what is added to it. A node added beside another of its kind is drawn with that node's shape
// at once, edge included, before React Flow has measured it: the edge must still meet both handles exactly. Zoomed
// far out, nodes are plain cards in their kind's colour (text hidden, problems still shown), and full again on the
// way back in. Ports connect by drag or by two clicks. The minimap centres the view on a click and pans it on a drag.
// Only the nodes in view are drawn, and Tab reaches the others.

interface EdgeEnds {
  id: string;
  /** Distance in screen pixels from each end of the drawn edge to the point of its handle it should meet. */
  fromGap: number;
  toGap: number;
}

/** Where each edge starts and ends on screen, against its handles (the right side of the source's, the left of the target's). */
function edgeEnds(page: Page): Promise<EdgeEnds[]> {
  return page.evaluate(() => {
    interface Box {
      left: number;
      right: number;
      top: number;
      height: number;
    }
    interface El {
      getBoundingClientRect(): Box;
      getAttribute(name: string): string | null;
      querySelector(selector: string): El | null;
      getTotalLength(): number;
      getPointAtLength(at: number): { x: number; y: number; matrixTransform(m: unknown): { x: number; y: number } };
      getScreenCTM(): unknown;
    }
    const doc = (
      globalThis as unknown as { document: { querySelectorAll(s: string): El[]; querySelector(s: string): El | null } }
    ).document;
    const handle = (node: string, port: string) =>
      doc.querySelector(`.react-flow__handle[data-nodeid="${node}"][data-handleid="${port}"]`)?.getBoundingClientRect();
    return [...doc.querySelectorAll(".react-flow__edge")].map((edge) => {
      const id = edge.getAttribute("data-id") ?? "";
      const [, from, fromPort, to, toPort] = /^(.+)\.(.+)->(.+)\.(.+)$/.exec(id) ?? [];
      const path = edge.querySelector(".react-flow__edge-path");
      const source = handle(from ?? "", fromPort ?? "");
      const target = handle(to ?? "", toPort ?? "");
      if (!path || !source || !target) return { id, fromGap: Number.NaN, toGap: Number.NaN };
      const ctm = path.getScreenCTM();
      const start = path.getPointAtLength(0).matrixTransform(ctm);
      const end = path.getPointAtLength(path.getTotalLength()).matrixTransform(ctm);
      const gap = (p: { x: number; y: number }, x: number, y: number) => Math.hypot(p.x - x, p.y - y);
      return {
        id,
        fromGap: gap(start, source.right, source.top + source.height / 2),
        toGap: gap(end, target.left, target.top + target.height / 2),
      };
    });
  });
}

test("nodes added beside their kind get their edge drawn at the handles; far out, nodes become cards", async ({
  page,
}) => {
  await signUp(page, "Vera View", "e2e-view");
  await createPipeline(page, "Canvas view");

  // generator → filter → filter → filter, from the keyboard: each new filter goes beside the one before, connected.
  const search = palette(page).getByRole("searchbox", { name: "Search nodes" });
  const announced = palette(page).getByRole("status");
  await search.fill("generator");
  await search.press("Enter");
  await expect(announced).toHaveText("Added Generator as generator1.");
  await search.fill("filter");
  await search.press("Enter");
  await expect(announced).toHaveText("Added Filter as filter1, connected from generator1.");
  await search.press("Enter");
  await expect(announced).toHaveText("Added Filter as filter2, connected from filter1.");
  await search.press("Enter");
  await expect(announced).toHaveText("Added Filter as filter3, connected from filter2.");
  await expect(page.locator(".react-flow__edge")).toHaveCount(3);
  // Only nodes in view are drawn, and the view follows each new node: fit the view so every node is on the page, and
  // measure once both ends of every edge are.
  await page.getByRole("button", { name: "Fit View" }).click();
  let ends: EdgeEnds[] = [];
  await expect
    .poll(async () => {
      ends = await edgeEnds(page);
      return ends.every((e) => Number.isFinite(e.fromGap) && Number.isFinite(e.toGap));
    })
    .toBe(true);
  expect(ends.map((e) => e.id).sort()).toEqual([
    "filter1.out->filter2.in",
    "filter2.out->filter3.in",
    "generator1.out->filter1.in",
  ]);
  for (const e of ends) {
    expect(e.fromGap, `${e.id} starts at its source handle`).toBeLessThan(1.5);
    expect(e.toGap, `${e.id} ends at its target handle`).toBeLessThan(1.5);
  }

  // Dropped on another output, a drag from an output is refused with the reason.
  await page.getByRole("button", { name: "Fit View" }).click();
  const out1 = await page.getByTestId("node-filter1").locator(".react-flow__handle.source").boundingBox();
  const out3 = await page.getByTestId("node-filter3").locator(".react-flow__handle.source").boundingBox();
  if (!out1 || !out3) throw new Error("the filters' outputs must be on screen");
  await page.mouse.move(out1.x + out1.width / 2, out1.y + out1.height / 2);
  await page.mouse.down();
  await page.mouse.move(out3.x, out3.y + 20, { steps: 6 });
  await page.mouse.move(out3.x + out3.width / 2, out3.y + out3.height / 2, { steps: 6 });
  await page.mouse.up();
  await expect(page.getByRole("status").filter({ hasText: "Both ends are outputs" })).toBeVisible();
  await expect(page.locator(".react-flow__edge")).toHaveCount(3);

  // A port clicked, then another, connects them as a drag would.
  await page.getByTestId("node-filter3").click();
  await page.keyboard.press("Escape"); // nothing selected: the console goes in the middle, unconnected
  await search.fill("console");
  await search.press("Enter");
  await expect(announced).toHaveText("Added Console as console1.");
  await page.getByRole("button", { name: "Fit View" }).click();
  await page.getByTestId("node-filter3").locator(".react-flow__handle.source").click();
  await page.getByTestId("node-console1").locator(".react-flow__handle.target").click();
  await expect(page.locator('.react-flow__edge[data-id="filter3.out->console1.in"]')).toBeAttached();

  // The minimap draws the five nodes. Zoomed in on the middle, the generator is out of view: a click on its
  // rectangle in the minimap centres the view on it, and dragging over the minimap pans the canvas with the pointer.
  const map = page.getByRole("img", { name: "Overview of the pipeline" });
  const mapNodes = page.locator(".react-flow__minimap-node");
  await expect(mapNodes).toHaveCount(5);
  const pane = await page.locator(".react-flow__pane").boundingBox();
  if (!pane) throw new Error("the canvas must be on screen");
  await page.mouse.move(pane.x + pane.width / 2, pane.y + pane.height / 2);
  await page.mouse.wheel(0, -3000);
  await expect(page.getByRole("button", { name: "Zoom In" })).toBeDisabled();
  const generator = page.getByTestId("node-generator1");
  await expect(generator).not.toBeInViewport();
  const generatorOnMap = await mapNodes.first().boundingBox();
  if (!generatorOnMap) throw new Error("the minimap must draw the generator");
  await page.mouse.click(generatorOnMap.x + generatorOnMap.width / 2, generatorOnMap.y + generatorOnMap.height / 2);
  await expect(generator).toBeInViewport();

  // Only the nodes in view are drawn: the last filter, far to the right at this zoom, is not on the page. Tab on a
  // node still walks every node in the pipeline's order, bringing each into view; Shift+Tab walks back.
  const nodeGroup = (title: string, id: string) => page.getByRole("group", { name: `${title} node ${id}` });
  await expect(page.getByTestId("node-filter3")).not.toBeAttached();
  await nodeGroup("Generator", "generator1").focus();
  for (const id of ["filter1", "filter2", "filter3"]) {
    await page.keyboard.press("Tab");
    await expect(nodeGroup("Filter", id)).toBeFocused();
    await expect(nodeGroup("Filter", id)).toBeInViewport();
  }
  await expect(generator).not.toBeAttached();
  await page.keyboard.press("Shift+Tab");
  await expect(nodeGroup("Filter", "filter2")).toBeFocused();
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  await expect(nodeGroup("Console", "console1")).toBeFocused();
  await page.mouse.click(generatorOnMap.x + generatorOnMap.width / 2, generatorOnMap.y + generatorOnMap.height / 2);
  await expect(generator).toBeInViewport();
  const viewportX = async () =>
    Number(
      /translate\(([-\d.]+)px/.exec((await page.locator(".react-flow__viewport").getAttribute("style")) ?? "")?.[1],
    );
  // The view glides to the generator: start the drag once it has arrived (it stays put for 100 ms).
  await expect
    .poll(async () => {
      const start = await viewportX();
      await page.waitForTimeout(100);
      return (await viewportX()) === start;
    })
    .toBe(true);
  const before = await viewportX();
  const mapBox = await map.boundingBox();
  if (!mapBox) throw new Error("the minimap must be on screen");
  await page.mouse.move(mapBox.x + mapBox.width / 2, mapBox.y + mapBox.height / 2);
  await page.mouse.down();
  await page.mouse.move(mapBox.x + mapBox.width / 2 + 10, mapBox.y + mapBox.height / 2, { steps: 4 });
  await page.mouse.move(mapBox.x + mapBox.width / 2 + 20, mapBox.y + mapBox.height / 2, { steps: 4 });
  await page.mouse.up();
  // The window moved right over the map, so the canvas shows what lies further right: it moved left.
  await expect.poll(viewportX).toBeLessThan(before - 50);

  // Zoom far out: the filters are cards, their text hidden, the problem of the empty condition still shown.
  const canvas = page.locator("[data-editor-canvas]");
  const filter3 = page.getByTestId("node-filter3");
  await page.mouse.move(pane.x + pane.width / 2, pane.y + pane.height / 2);
  await page.mouse.wheel(0, 3000);
  await expect(page.getByRole("button", { name: "Zoom Out" })).toBeDisabled();
  await expect(canvas).toHaveClass(/\bis-far\b/);
  await expect(filter3.getByText("Filter", { exact: true })).toBeHidden();
  await expect(filter3.getByRole("img", { name: "1 problem" })).toBeVisible();
  await expect(page.getByRole("group", { name: "Filter node filter3" })).toBeAttached();

  // Zoom to fit brings the full nodes back.
  await page.getByRole("button", { name: "Fit View" }).click();
  await expect(canvas).not.toHaveClass(/\bis-far\b/);
  await expect(filter3.getByText("Filter", { exact: true })).toBeVisible();
});
