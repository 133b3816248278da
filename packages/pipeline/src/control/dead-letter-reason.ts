// Why a dead letter failed, as a reason its group is named by: the error message with the values of the record that
// failed taken out (quoted text, numbers, ids), so a million records failing the same way make one group, not a
// million. The expression text an expression error quotes (between backticks) is the node's, the same for every
// record, and is kept.

const QUOTED = /'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g;
const BACKTICKED = /`[^`]*`/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const HEX = /\b(?=[0-9a-f]*\d)[0-9a-f]{16,}\b/gi;
const NUMBER = /(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w])/gi;
/** Longer messages are cut: what follows rarely tells one kind of failure from another. */
const MAX_REASON_CHARS = 300;

/** The error message a dead letter carries, normalised into the reason it is grouped by. */
export function deadLetterReason(error: string): string {
  const kept: string[] = [];
  const reason = error
    .replace(BACKTICKED, (m) => {
      kept.push(m);
      // A placeholder with no digit in it, so the replacements below leave it alone.
      return `\uf8fe${String.fromCharCode(0xe000 + kept.length - 1)}\uf8ff`;
    })
    .replace(QUOTED, (m) => `${m[0]}…${m[0]}`)
    .replace(UUID, "…")
    .replace(HEX, "…")
    .replace(NUMBER, "#")
    .replace(/\uf8fe([\ue000-\uefff])\uf8ff/g, (_, c: string) => kept[c.charCodeAt(0) - 0xe000] ?? "")
    .replace(/\s+/g, " ")
    .trim();
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}…` : reason;
}

/** A group of dead letters: those of one node that failed for one reason. */
export interface DeadLetterGroupRef {
  nodeId: string;
  reason: string;
}

export function matchesGroup(letter: { nodeId: string; error: string }, group: DeadLetterGroupRef): boolean {
  return letter.nodeId === group.nodeId && deadLetterReason(letter.error) === group.reason;
}
