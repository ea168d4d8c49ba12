import { labelLines } from '../fhir/format.js';

const LINE = 16;

/** A plain horizontal bar chart in SVG, with its figures also in words for screen readers. */
export function BarChart({ title, bars }: { title: string; bars: { label: string; value: number }[] }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const labelWidth = 210;
  // Each bar as tall as its label's lines.
  const rows = bars.map((b) => ({ ...b, lines: labelLines(b.label) }));
  const heights = rows.map((r) => Math.max(28, r.lines.length * LINE + 12));
  const tops = heights.map((_, i) => heights.slice(0, i).reduce((a, h) => a + h, 4));
  const total = heights.reduce((a, h) => a + h, 8);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 600 ${total}`} role="img" aria-label={`${title} : ${bars.map((b) => `${b.label} ${b.value}`).join(', ')}`}>
        {rows.map((b, i) => {
          const middle = heights[i] / 2;
          return (
            <g transform={`translate(0 ${tops[i]})`}>
              <text x={labelWidth - 8} y={middle + 4 - ((b.lines.length - 1) * LINE) / 2} text-anchor="end">
                {b.lines.map((line, j) => (
                  <tspan x={labelWidth - 8} dy={j ? LINE : 0}>
                    {line}
                  </tspan>
                ))}
              </text>
              <rect x={labelWidth} y={middle - 9} height={18} width={Math.max(2, ((600 - labelWidth - 50) * b.value) / max)} rx={2} />
              <text x={labelWidth + 8 + ((600 - labelWidth - 50) * b.value) / max} y={middle + 4}>
                {b.value}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
