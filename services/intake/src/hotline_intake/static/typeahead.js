// The typeahead of the console's place fields (on kit.js's helpers). Plain script, no build step.
"use strict";

// A typeahead (the ARIA combobox pattern): type, ↑ ↓ move, Enter picks, Esc closes. `lookUp(text)` answers the
// options ({code, path_th, path_en}) or null; the pick's code goes into the `hidden` input.
function typeahead(input, list, hidden, lookUp) {
  let options = [], active = -1, asked = 0;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }
  function highlight(index) {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    const chosen = list.children[index];
    if (chosen) { input.setAttribute("aria-activedescendant", chosen.id); chosen.scrollIntoView({ block: "nearest" }); }
  }
  function pick(index) {
    const place = options[index];
    if (!place) return;
    input.value = place.path_th;
    hidden.value = place.code;
    input.dataset.picked = place.path_th;
    input.removeAttribute("aria-invalid");
    close();
  }
  const refresh = debounce(async () => {
    const q = input.value.trim();
    const mine = ++asked;
    if (!q) { options = []; close(); return; }
    const found = await lookUp(q);
    if (mine !== asked || !found) return;  // a later keystroke has asked again
    options = found;
    list.replaceChildren(...options.map((place, i) => {
      const li = el("li", { role: "option", id: list.id + "-" + i, "aria-selected": "false",
                            dataset: { code: place.code } }, place.path_th + " ", en(place.path_en));
      li.addEventListener("mousedown", (e) => { e.preventDefault(); pick(i); });
      return li;
    }));
    list.hidden = options.length === 0;
    input.setAttribute("aria-expanded", String(options.length > 0));
    active = -1;
  }, 150);

  input.addEventListener("input", () => {
    if (input.value !== input.dataset.picked) hidden.value = "";  // typed over the pick: nothing chosen
    refresh();
  });
  input.addEventListener("keydown", (e) => {
    if (list.hidden) return;
    if (e.key === "ArrowDown") { e.preventDefault(); highlight(Math.min(active + 1, options.length - 1)); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
    else if (e.key === "Enter" && !e.ctrlKey && active >= 0) { e.preventDefault(); pick(active); }
    else if (e.key === "Escape") { e.preventDefault(); close(); }
  });
  input.addEventListener("blur", close);
  return {
    reset() { input.value = ""; hidden.value = ""; delete input.dataset.picked; options = []; close(); },
  };
}

