"use client";

import { type ReactNode, useEffect, useId, useRef } from "react";

interface DialogProps {
  open: boolean;
  onClose: () => void;
  title: string;
  description?: ReactNode;
  children: ReactNode;
  /** Escape and backdrop clicks close it unless false (e.g. while a request is in flight). */
  dismissible?: boolean;
  role?: "dialog" | "alertdialog";
  /** "wide" for content that needs the screen (a diff, a table); forms keep the default. */
  size?: "default" | "wide";
}

/**
 * A modal on the native <dialog> element: focus is trapped and restored, Escape closes it, the page behind is
 * inert. Content is only rendered while open, so forms inside start fresh each time.
 */
export function Dialog({
  open,
  onClose,
  title,
  description,
  children,
  dismissible = true,
  role,
  size = "default",
}: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    else if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the keyboard path is Escape (the native cancel event above); the click only catches backdrop clicks
    <dialog
      ref={ref}
      className={size === "wide" ? "dialog dialog-wide" : "dialog"}
      role={role}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      onCancel={(event) => {
        event.preventDefault();
        if (dismissible) onClose();
      }}
      onClick={(event) => {
        // A click on the <dialog> itself (not its content) is a click on the backdrop.
        if (dismissible && event.target === event.currentTarget) onClose();
      }}
    >
      {open ? (
        <div className="dialog-body">
          <h2 id={titleId} className="dialog-title">
            {title}
          </h2>
          {description ? (
            <div id={descriptionId} className="dialog-description">
              {description}
            </div>
          ) : null}
          {children}
        </div>
      ) : null}
    </dialog>
  );
}
