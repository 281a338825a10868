// Helpers the room page and the index page share. User text only ever goes in
// as textContent, never as markup (SPEC R93).

export function byId(id) {
  return document.getElementById(id);
}

export function setText(node, text) {
  if (node) {
    node.textContent = text;
  }
}

// <tag class="className">text</tag>
export function textElement(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

// Same wording as the viewers_label template filter.
export function viewersLabel(count) {
  const n = Number(count) || 0;
  return n === 1 ? "1 viewer" : n + " viewers";
}

// GET a JSON document of this site; rejects on an error status.
export function getJson(path) {
  return fetch(path, {credentials: "same-origin", headers: {Accept: "application/json"}}).then((response) =>
    response.ok ? response.json() : Promise.reject(new Error(path + " answered " + response.status))
  );
}

// A small button whose accessible name says whom it acts on ("Kick Bob"), as R94a asks.
export function namedButton(label, person, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "small";
  button.textContent = label;
  button.setAttribute("aria-label", label + " " + person);
  button.addEventListener("click", onClick);
  return button;
}
