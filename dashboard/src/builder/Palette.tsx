import type { StepInfo } from "../canvas/types";

export const STEP_DRAG_TYPE = "application/x-flowdeck-step";

const CATEGORY_LABELS: Record<string, string> = {
  voice: "Voice",
  messaging: "Messaging",
  data: "Data",
  logic: "Logic",
  people: "People",
  trigger: "Triggers",
};
const CATEGORY_ORDER = ["voice", "messaging", "logic", "data", "people", "trigger"];

interface PaletteProps {
  steps: StepInfo[];
  onAdd: (type: string) => void;
}

/** The step catalogue by category: drag a step onto the canvas, or press Enter on it to add it. */
export function Palette({ steps, onAdd }: PaletteProps) {
  const categories = [...new Set(steps.map((step) => step.category))].sort((a, b) => CATEGORY_ORDER.indexOf(a) - CATEGORY_ORDER.indexOf(b));
  return (
    <nav className="palette" aria-label="Steps">
      <p className="hint palette-hint">Drag a step onto the canvas, or press Enter on it.</p>
      {categories.map((category) => (
        <section key={category} className="palette-group" aria-labelledby={`palette-${category}`}>
          <h2 id={`palette-${category}`}>{CATEGORY_LABELS[category] ?? category}</h2>
          <ul>
            {steps
              .filter((step) => step.category === category)
              .map((step) => (
                <li key={step.type}>
                  <button
                    type="button"
                    className={`palette-item step-cat-${step.category}`}
                    draggable
                    data-step-type={step.type}
                    title={step.description}
                    aria-label={`Add ${step.label}`}
                    onDragStart={(event) => {
                      event.dataTransfer.setData(STEP_DRAG_TYPE, step.type);
                      event.dataTransfer.effectAllowed = "copy";
                    }}
                    onClick={() => onAdd(step.type)}
                  >
                    {step.label}
                  </button>
                </li>
              ))}
          </ul>
        </section>
      ))}
    </nav>
  );
}
