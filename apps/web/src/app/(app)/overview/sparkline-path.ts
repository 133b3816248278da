// A throughput sparkline as one SVG path: 90 points is too few to need a chart library, and a path per table row
// costs no canvas, no resize observer and no script once drawn (uPlot earns its keep on the run page's charts).

/**
 * The path `d` of `values` drawn left to right in a `width` × `height` box, scaled to the largest value (at least
 * 1, so a trickle does not fill the box); a null is a gap (before the run started).
 */
export function sparklinePath(values: readonly (number | null)[], width: number, height: number): string {
  if (values.length === 0) return "";
  const top = Math.max(1, ...values.map((v) => v ?? 0));
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const parts: string[] = [];
  let drawing = false;
  values.forEach((v, i) => {
    if (v === null) {
      drawing = false;
      return;
    }
    const x = Math.round(i * step * 10) / 10;
    // A pixel of margin keeps the line's stroke inside the box at the top and bottom.
    const y = Math.round((height - 1 - (Math.max(0, v) / top) * (height - 2)) * 10) / 10;
    parts.push(`${drawing ? "L" : "M"}${x} ${y}`);
    drawing = true;
  });
  return parts.join(" ");
}
