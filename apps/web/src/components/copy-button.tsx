"use client";

import { useState } from "react";

/** Copies `text` to the clipboard; says so, or asks for a copy by hand where the browser refuses. */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  return (
    <button
      type="button"
      className="button button-small"
      aria-label={`Copy ${what}`}
      onClick={() =>
        navigator.clipboard.writeText(text).then(
          () => setCopied(true),
          () => setCopied(false),
        )
      }
    >
      {copied === true ? "Copied" : copied === false ? "Select and copy it" : "Copy"}
    </button>
  );
}
