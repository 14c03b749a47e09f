import { useId, useLayoutEffect, useRef, type ReactNode } from "react";

interface DialogProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
}

/** A modal dialog (the browser's own: focus stays inside, Escape closes it). Closed, it gives
 * the focus back to what had it when it opened (the button that opened it), if that is still
 * on the page. */
export function Dialog({ title, onClose, children }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  // Its own id: a confirmation opened from a dialog is named by its own title.
  const titleId = useId();

  // A layout effect: its cleanup runs before React takes the dialog out of the page, while
  // the focus is still inside it, so the focus can be handed back rather than lost to <body>.
  useLayoutEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      const hadFocus = dialog !== null && dialog.contains(document.activeElement);
      dialog?.close();
      if (hadFocus && opener?.isConnected) opener.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
