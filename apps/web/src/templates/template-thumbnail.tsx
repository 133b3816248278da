import type { RouterOutputs } from "@/components/api-types";

type Thumbnail = RouterOutputs["templates"]["list"][number]["thumbnail"];

const KNOWN_KINDS = new Set(["source", "transform", "sink"]);

/**
 * A template's graph in miniature for its gallery card: the API places the nodes in a 100 × 60 box; the drawing
 * adds a margin so the marks at the edges are whole. Sources are dots, sinks squares, transforms bars.
 */
export function TemplateThumbnail({ thumbnail }: { thumbnail: Thumbnail }) {
  const { nodes, edges } = thumbnail;
  return (
    <svg className="template-thumbnail" viewBox="-8 -8 116 76" aria-hidden="true" focusable="false">
      {edges.map(([from, to]) => {
        const a = nodes[from];
        const b = nodes[to];
        return a && b ? (
          <line key={`${from}-${to}`} x1={a.x} y1={a.y} x2={b.x} y2={b.y} className="thumb-edge" />
        ) : null;
      })}
      {nodes.map((n, i) => {
        const kind = KNOWN_KINDS.has(n.kind) ? n.kind : "transform";
        const key = `${i}-${n.kind}`;
        if (kind === "source") return <circle key={key} cx={n.x} cy={n.y} r={5} className="thumb-node thumb-source" />;
        if (kind === "sink")
          return <rect key={key} x={n.x - 5} y={n.y - 5} width={10} height={10} className="thumb-node thumb-sink" />;
        return (
          <rect key={key} x={n.x - 7} y={n.y - 4} width={14} height={8} rx={2} className="thumb-node thumb-transform" />
        );
      })}
    </svg>
  );
}
