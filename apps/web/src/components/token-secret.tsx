"use client";

import { CopyButton } from "@/components/copy-button";

/**
 * A token's secret right after it was made: Sluice keeps only its hash, so this is the one time it can be seen. It
 * stays until dismissed.
 */
export function TokenSecret({ secret, onDismiss, testId }: { secret: string; onDismiss: () => void; testId?: string }) {
  return (
    <div className="token-once" role="status">
      <p className="field-hint">
        <strong>Copy it now: it is shown once.</strong> Sluice keeps only its hash, so it cannot show this token again;
        it stays here until you dismiss it.
      </p>
      <div className="copy-row">
        <code className="copy-text" data-testid={testId}>
          {secret}
        </code>
        <CopyButton text={secret} what="the token" />
        <button type="button" className="button button-small" onClick={onDismiss}>
          I have copied it
        </button>
      </div>
    </div>
  );
}
