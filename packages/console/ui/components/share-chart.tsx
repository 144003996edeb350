import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  readonly label: string;
  /** One value per x; null where unknown (a gap). */
  readonly values: readonly (number | null)[];
  readonly color: string;
  /** A step line (a share holds until it changes) rather than a straight one. */
  readonly stepped?: boolean;
  /** Dots only (samples), no line between them. */
  readonly points?: boolean;
}

export interface ShareChartProps {
  /** What the chart shows, for screen readers (the figures are also in the tables beside it). */
  readonly title: string;
  /** x values: seconds since the epoch, or since the start when `relative`. */
  readonly x: readonly number[];
  readonly series: readonly ChartSeries[];
  readonly relative?: boolean;
}

const HEIGHT = 220;

/** Cloud share (0..1) over time, drawn by uPlot; `data-points` says how many x values it holds. */
export function ShareChart(props: ShareChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = [props.x as number[], ...props.series.map((s) => s.values as (number | null)[])] as uPlot.AlignedData;
  const shape = props.series.map((s) => s.label).join('|');

  useEffect(() => {
    const element = host.current;
    if (!element) return undefined;
    const stepped = uPlot.paths.stepped?.({ align: 1 });
    const options: uPlot.Options = {
      width: Math.max(320, element.clientWidth || 640),
      height: HEIGHT,
      scales: { x: { time: !props.relative }, y: { range: [0, 1] } },
      axes: [{ label: props.relative ? 'seconds' : undefined }, { label: 'cloud share' }],
      series: [
        {},
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.points ? 0 : 2,
          spanGaps: !s.points,
          ...(s.points ? { points: { show: true, size: 6, fill: s.color } } : {}),
          ...(s.stepped && stepped ? { paths: stepped } : {}),
        })),
      ],
    };
    plot.current = new uPlot(options, data, element);
    const resize = new ResizeObserver(() => {
      plot.current?.setSize({ width: Math.max(320, element.clientWidth), height: HEIGHT });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when the series themselves change; new data goes through setData below.
  }, [shape, props.relative]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return (
    <figure class="chart">
      <div ref={host} role="img" aria-label={props.title} data-points={props.x.length} />
      <figcaption>{props.title}</figcaption>
    </figure>
  );
}
