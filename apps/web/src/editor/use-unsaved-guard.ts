"use client";

import { useEffect } from "react";
import { useEditorStore } from "./editor-context";
import { isDirty } from "./store/editor-store";

const QUESTION = "This pipeline has unsaved changes. Leave without saving?";

/**
 * Warns before unsaved changes are lost: on reload/close (beforeunload) and on in-app links (the App Router has no
 * navigation-blocking API, so link clicks are intercepted in the capture phase).
 */
export function useUnsavedGuard(): void {
  const store = useEditorStore();
  useEffect(() => {
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      if (!isDirty(store.getState())) return;
      event.preventDefault();
    };
    const onClick = (event: MouseEvent) => {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      const link = (event.target as Element | null)?.closest?.("a[href]");
      if (!(link instanceof HTMLAnchorElement) || link.target === "_blank" || link.origin !== window.location.origin)
        return;
      if (link.pathname === window.location.pathname) return;
      if (isDirty(store.getState()) && !window.confirm(QUESTION)) {
        event.preventDefault();
        event.stopPropagation();
      }
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    document.addEventListener("click", onClick, true);
    return () => {
      window.removeEventListener("beforeunload", onBeforeUnload);
      document.removeEventListener("click", onClick, true);
    };
  }, [store]);
}
