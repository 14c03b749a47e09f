import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

interface UPlotChartProps {
  /** uPlot's options, less the size: the chart takes its container's width. */
  options: Omit<uPlot.Options, "width" | "height">;
  data: uPlot.AlignedData;
  height: number;
  /** What the chart shows, for those who cannot see it (the table under it has the figures). */
  label: string;
}

/** A uPlot chart that fills its container's width and follows it when the window resizes. */
export function UPlotChart({ options, data, height, label }: UPlotChartProps) {
  const frame = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = frame.current;
    if (element === null) return;
    const width = () => Math.max(240, Math.floor(element.clientWidth));
    const chart = new uPlot({ ...options, width: width(), height }, data, element);
    const observer = new ResizeObserver(() => chart.setSize({ width: width(), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [options, data, height]);

  return <div ref={frame} className="uplot-frame" role="img" aria-label={label} />;
}
