import { expect, type Locator, type Page } from "@playwright/test";

// What the specs do again and again, the way a user does it: sign up, create a pipeline, drag nodes from the
// palette, connect handles. Elements are found by role and label, as a screen reader would find them.

export const PASSWORD = "a long enough password";

/** A tRPC query through the app's own endpoint (superjson on the wire), with the signed-in user's cookie. */
export async function query<T>(page: Page, path: string, input: unknown): Promise<T> {
  const wire = encodeURIComponent(JSON.stringify({ json: input }));
  const response = await page.request.get(`/api/trpc/${path}?input=${wire}`);
  expect(response.ok(), `${path}: ${response.status()}`).toBe(true);
  return ((await response.json()) as { result: { data: { json: T } } }).result.data.json;
}

/** Signs a fresh user up (a unique email each time) and waits for the pipelines page; returns the email. */
export async function signUp(page: Page, name: string, emailPrefix = "e2e"): Promise<string> {
  const email = `${emailPrefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  await page.goto("/signup");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/pipelines$/);
  return email;
}

/** Creates a pipeline from the pipelines page (goes there first when elsewhere) and waits for its editor; returns its URL. */
export async function createPipeline(page: Page, name: string): Promise<string> {
  if (!/\/pipelines$/.test(new URL(page.url()).pathname)) await page.goto("/pipelines");
  await page.getByRole("button", { name: "New pipeline" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New pipeline" });
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "Create pipeline" }).click();
  await expect(page).toHaveURL(/\/pipelines\/[^/]+$/);
  await expect(page.getByRole("heading", { name, exact: true })).toBeVisible();
  return page.url();
}

export function palette(page: Page): Locator {
  return page.getByRole("complementary", { name: "Node palette" });
}

/**
 * Drags a palette item onto the canvas (HTML5 drag and drop, as with a mouse) at a point given as fractions of the
 * canvas's width and height, and waits for the node with the id the editor gives it. `item` is the item's title,
 * or the button itself when the title alone is ambiguous (PostgreSQL is both a source and a sink). `frame` fixes the
 * size the fractions are of (the canvas's own size now when not given).
 */
export async function dropNode(
  page: Page,
  item: string | Locator,
  id: string,
  x: number,
  y: number,
  frame?: { width: number; height: number },
): Promise<void> {
  const pane = page.locator(".react-flow__pane");
  const box = frame ?? (await pane.boundingBox());
  if (!box) throw new Error("the canvas must be on screen");
  const button = typeof item === "string" ? palette(page).getByRole("button", { name: item, exact: true }) : item;
  await button.dragTo(pane, { targetPosition: { x: box.width * x, y: box.height * y } });
  await expect(page.getByTestId(`node-${id}`)).toBeVisible();
}

/** Drags from a node's output handle to another node's input handle, with real mouse moves. */
export async function connect(page: Page, from: string, to: string): Promise<void> {
  const source = page.getByTestId(`node-${from}`).locator(".react-flow__handle.source").first();
  const target = page.getByTestId(`node-${to}`).locator(".react-flow__handle.target").first();
  const a = await source.boundingBox();
  const b = await target.boundingBox();
  if (!a || !b) throw new Error(`handles of ${from} and ${to} must be on screen`);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 8 });
  await page.mouse.up();
}

/** Selects a Filter node and types its condition into the inspector's form; waits until the node shows it. */
export async function setFilterCondition(page: Page, where: string, nodeId = "filter1"): Promise<void> {
  await page.getByTestId(`node-${nodeId}`).click();
  await page.getByRole("complementary", { name: "Inspector" }).getByLabel("Keep records where").fill(where);
  await expect(page.getByTestId(`node-${nodeId}`)).toContainText(where);
}

/** The PostgreSQL server the e2e stack runs on (its admin database), as scripts/lib/test-db.ts finds it. */
export const adminUrl = new URL(
  process.env.SLUICE_TEST_DATABASE_URL || process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/postgres",
);

/** Creates a PostgreSQL connection to the e2e stack's server on the connections page (goes there first). */
export async function createPostgresConnection(page: Page, name: string): Promise<void> {
  await page.getByRole("link", { name: "Connections" }).first().click();
  await expect(page).toHaveURL(/\/connections$/);
  await page.getByRole("button", { name: "New connection" }).click();
  await fillPostgresConnection(page.getByRole("dialog", { name: "New connection" }), name);
  await expect(page.getByRole("table", { name: "Connections" })).toContainText(name);
}

/** Fills the open "New connection" dialog with the local PostgreSQL server's settings and creates it. */
export async function fillPostgresConnection(dialog: Locator, name: string): Promise<void> {
  const type = dialog.getByLabel("Type");
  if ((await type.count()) > 0) await type.selectOption({ label: "PostgreSQL" });
  await dialog.getByLabel("Name", { exact: true }).fill(name);
  await dialog.getByLabel("Host", { exact: true }).fill(adminUrl.hostname);
  await dialog.getByLabel("Port", { exact: true }).fill(adminUrl.port || "5432");
  await dialog.getByLabel("Database", { exact: true }).fill(adminUrl.pathname.slice(1) || "postgres");
  await dialog.getByLabel("User", { exact: true }).fill(decodeURIComponent(adminUrl.username) || "postgres");
  await dialog.getByRole("button", { name: "Create connection" }).click();
  await expect(dialog).toBeHidden();
}
