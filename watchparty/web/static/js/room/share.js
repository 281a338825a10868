// "Link to this room": the page's own address, and a button that copies it.
import {byId, setText} from "../common.js";

export function mountShareLink(page) {
  const input = byId("room-link");
  const result = byId("copy-result");
  input.value = window.location.origin + "/rooms/" + encodeURIComponent(page.code);

  function fallback() {
    input.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (error) {
      ok = false;
    }
    setText(result, ok ? "Link copied." : "Select the link and copy it.");
  }

  byId("copy-link").addEventListener("click", () => {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(() => setText(result, "Link copied."), fallback);
    } else {
      fallback();
    }
  });
}
