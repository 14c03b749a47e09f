import { useState, type FormEvent } from "react";

/** A dialog's form: pending while the request is out, the API's refusal kept to show. */
export function useSubmit(send: () => Promise<void>) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      await send();
    } catch (problem) {
      setError(problem);
      setPending(false);
    }
  }

  return { pending, error, submit };
}
