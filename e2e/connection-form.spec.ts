import { expect, test } from "@playwright/test";
import { createPostgresConnection, signUp } from "./support";

// The connection form is the generated form every node uses: a number that is not one stays in its input with
// what is wrong and is not saved; a password is write-only (the form says whether one is stored, never shows it,
// keeps it when left empty, and removes it only when asked).

test("a connection's port is checked in the form and its password is set, kept and removed without being shown", async ({
  page,
}) => {
  await signUp(page, "Connection Editor");
  const name = `pg_${Date.now().toString(36)}`;
  await createPostgresConnection(page, name);

  const edit = async () => {
    await page.getByRole("button", { name: `Edit ${name}` }).click();
    const dialog = page.getByRole("dialog", { name: `Edit “${name}”` });
    await expect(dialog).toBeVisible();
    return dialog;
  };

  let dialog = await edit();
  const port = dialog.getByLabel("Port", { exact: true });
  const originalPort = await port.inputValue();
  await expect(dialog.locator(".secret-state")).toHaveText("not set");
  await port.fill("5.5");
  await expect(dialog.getByText("Enter a whole number.")).toBeVisible();
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await expect(port).toBeFocused();
  await expect(dialog).toBeVisible();

  await port.fill(originalPort);
  await expect(dialog.getByText("Enter a whole number.")).toHaveCount(0);
  await dialog.getByLabel("Password", { exact: true }).fill("not-shown-again");
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await expect(dialog).toBeHidden();

  dialog = await edit();
  const password = dialog.getByLabel("Password", { exact: true });
  await expect(dialog.locator(".secret-state")).toHaveText("set");
  await expect(password).toHaveValue("");
  await expect(password).toHaveAttribute("placeholder", "Leave empty to keep the stored value");
  await expect(dialog.getByLabel("Port", { exact: true })).toHaveValue(originalPort);
  await dialog.getByRole("button", { name: "Test connection" }).click();
  await expect(dialog.locator(".test-ok")).toBeVisible({ timeout: 15_000 });

  await dialog.getByLabel("Remove the stored password").check();
  await expect(dialog.locator(".secret-state")).toHaveText("will be removed");
  await expect(password).toBeDisabled();
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await expect(dialog).toBeHidden();

  dialog = await edit();
  await expect(dialog.locator(".secret-state")).toHaveText("not set");
  await expect(dialog.getByLabel("Remove the stored password")).toHaveCount(0);
});
