import { clockTime } from "./time";

/** An API timestamp as local clock time, kept on one line. */
export function Clock({ iso }: { iso: string }) {
  return (
    <time className="clock" dateTime={iso} title={new Date(iso).toLocaleString()}>
      {clockTime(iso)}
    </time>
  );
}
