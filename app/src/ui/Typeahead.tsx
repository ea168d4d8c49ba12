import type { Coding } from '@medplum/fhirtypes';
import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * An accessible combobox (WAI-ARIA 1.2 pattern): suggestions as the user types, arrows to move,
 * Enter to choose, Escape to close. `suggest` may be slow: only the last answer is shown.
 */
export function Typeahead({
  id,
  label,
  value,
  onChange,
  suggest,
}: {
  id: string;
  label: string;
  value?: Coding;
  onChange: (c?: Coding) => void;
  suggest: (text: string) => Promise<Coding[]>;
}) {
  const [text, setText] = useState(value?.display ?? '');
  const [items, setItems] = useState<Coding[]>([]);
  const [active, setActive] = useState(-1);
  const [open, setOpen] = useState(false);
  const asked = useRef(0);
  useEffect(() => setText(value?.display ?? ''), [value]);
  useEffect(() => {
    if (!open || text.trim().length < 2 || text === value?.display) return setItems([]);
    const n = ++asked.current;
    const timer = setTimeout(
      () =>
        void suggest(text).then((found) => {
          if (n !== asked.current) return;
          setItems(found);
          setActive(-1);
        }),
      200,
    );
    return () => clearTimeout(timer);
  }, [text, open]);
  const choose = (c?: Coding) => {
    onChange(c);
    setText(c?.display ?? '');
    setOpen(false);
    setItems([]);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') setActive(Math.min(active + 1, items.length - 1));
    else if (e.key === 'ArrowUp') setActive(Math.max(active - 1, 0));
    else if (e.key === 'Enter' && active >= 0) choose(items[active]);
    else if (e.key === 'Escape') setOpen(false);
    else return;
    e.preventDefault();
  };
  const shown = open && items.length > 0;
  return (
    <div class="typeahead">
      <label for={id}>{label}</label>
      <input
        id={id}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={shown}
        aria-controls={`${id}-list`}
        aria-activedescendant={shown && active >= 0 ? `${id}-${active}` : undefined}
        autocomplete="off"
        value={text}
        onInput={(e) => {
          setText(e.currentTarget.value);
          setOpen(true);
          if (!e.currentTarget.value) onChange(undefined);
        }}
        onKeyDown={onKey}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
      />
      <ul id={`${id}-list`} role="listbox" hidden={!shown} aria-label={`Suggestions : ${label}`}>
        {items.map((c, i) => (
          <li
            id={`${id}-${i}`}
            role="option"
            aria-selected={i === active}
            class={i === active ? 'active' : undefined}
            onMouseDown={(e) => {
              e.preventDefault();
              choose(c);
            }}
          >
            {c.display}
          </li>
        ))}
      </ul>
    </div>
  );
}
