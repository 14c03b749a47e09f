import { useRef, type ChangeEvent } from "react";

interface ImportFlowButtonProps {
  onFile: (file: File) => void;
}

/** Picks a flow file (the shape of `examples/*.json`) to create a flow from. */
export function ImportFlowButton({ onFile }: ImportFlowButtonProps) {
  const input = useRef<HTMLInputElement>(null);

  function picked(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    event.target.value = ""; // the same file may be picked again
    if (file) onFile(file);
  }

  return (
    <>
      <button type="button" className="button" onClick={() => input.current?.click()}>
        Import JSON
      </button>
      <input
        ref={input}
        type="file"
        accept="application/json,.json"
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Flow file to import"
        data-testid="import-file"
        onChange={picked}
      />
    </>
  );
}
