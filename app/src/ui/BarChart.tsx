/** A plain horizontal bar chart in SVG, with its figures also in words for screen readers. */
export function BarChart({ title, bars }: { title: string; bars: { label: string; value: number }[] }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const row = 28;
  const labelWidth = 210;
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 600 ${bars.length * row + 8}`} role="img" aria-label={`${title} : ${bars.map((b) => `${b.label} ${b.value}`).join(', ')}`}>
        {bars.map((b, i) => (
          <g transform={`translate(0 ${i * row + 4})`}>
            <text x={labelWidth - 8} y={row / 2 + 4} text-anchor="end">
              {b.label.length > 32 ? `${b.label.slice(0, 31)}…` : b.label}
            </text>
            <rect x={labelWidth} y={4} height={row - 10} width={Math.max(2, ((600 - labelWidth - 50) * b.value) / max)} rx={2} />
            <text x={labelWidth + 8 + ((600 - labelWidth - 50) * b.value) / max} y={row / 2 + 4}>
              {b.value}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}
