import type { Schemas } from "../../api/client";

type Day = NonNullable<Schemas["BusinessHours"]["days"]>[number];
const DAYS: Day[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** Business hours for a deployment: days, opening and closing time, time zone. */
export function ScheduleFields({ value, onChange }: { value: Schemas["BusinessHours"]; onChange: (hours: Schemas["BusinessHours"]) => void }) {
  const days = value.days ?? [];
  return (
    <div className="schedule-fields">
      <fieldset className="schedule-days">
        <legend>Days</legend>
        {DAYS.map((day) => (
          <label key={day}>
            <input
              type="checkbox"
              checked={days.includes(day)}
              onChange={(e) =>
                onChange({ ...value, days: e.target.checked ? DAYS.filter((d) => d === day || days.includes(d)) : days.filter((d) => d !== day) })
              }
            />
            {day}
          </label>
        ))}
      </fieldset>
      <div className="schedule-times">
        <div className="field">
          <label htmlFor="schedule-start">Opens</label>
          <input id="schedule-start" type="time" value={value.start} onChange={(e) => onChange({ ...value, start: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="schedule-end">Closes</label>
          <input id="schedule-end" type="time" value={value.end} onChange={(e) => onChange({ ...value, end: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor="schedule-timezone">Time zone</label>
          <input id="schedule-timezone" value={value.timezone ?? "UTC"} onChange={(e) => onChange({ ...value, timezone: e.target.value })} placeholder="Asia/Kolkata" />
        </div>
      </div>
    </div>
  );
}
