// The chat (SPEC R50-R56): the log (history, then live messages, each once), the
// message form, refusals said in words, and the "chat is off" line.
import {byId, setText, textElement} from "../common.js";

const MAX_CHAT_ENTRIES = 500;
const NEAR_BOTTOM_PX = 40;

function clockTime(iso) {
  const date = new Date(iso);
  return isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
}

function validMessage(message) {
  return Boolean(message && typeof message.message === "string" && message.user &&
    typeof message.user.display_name === "string");
}

function chatEntry(message) {
  const entry = document.createElement("p");
  entry.className = "chat-message";
  const time = textElement("time", "chat-time", clockTime(message.created_at));
  time.dateTime = String(message.created_at || "");
  entry.append(
    textElement("strong", "chat-author", message.user.display_name), ": ",
    textElement("span", "chat-text", message.message), " ", time
  );
  return entry;
}

export class Chat {
  constructor(page, connection) {
    this.page = page;
    this.connection = connection;
    this.seen = new Set(); // message ids already in the log
    this.lastSent = "";
    this.el = {log: byId("chat-log"), off: byId("chat-off"), form: byId("chat-form"),
      input: byId("chat-input"), error: byId("chat-error")};
    this.el.form.addEventListener("submit", (event) => this.submit(event));
    this.el.input.addEventListener("input", () => setText(this.el.error, ""));
    connection.on("CHAT_HISTORY", (payload) => this.onHistory(payload));
    connection.on("CHAT", (message) => this.onChat(message));
    connection.on("ERROR", (payload) => this.onError(payload));
    page.onRoomChange((room) => this.showEnabled(Boolean(room.is_chat_enabled)));
    this.showEnabled(Boolean(page.room.is_chat_enabled));
  }

  append(messages) {
    const log = this.el.log;
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
    messages.forEach((message) => {
      if (validMessage(message) && !this.seen.has(message.id)) {
        this.seen.add(message.id);
        log.append(chatEntry(message));
      }
    });
    while (log.childElementCount > MAX_CHAT_ENTRIES) {
      log.firstElementChild.remove();
    }
    if (nearBottom) {
      log.scrollTop = log.scrollHeight;
    }
  }

  onHistory(payload) {
    if (payload && Array.isArray(payload.messages)) {
      this.seen.clear();
      this.el.log.replaceChildren();
      this.append(payload.messages);
    }
  }

  onChat(message) {
    this.append([message]);
    if (validMessage(message) && message.user.id === this.page.userId) {
      setText(this.el.error, "");
    }
  }

  // A refusal of this socket's last command (R36); a refused message is not lost.
  onError(payload) {
    if (!payload || typeof payload.message !== "string") {
      return;
    }
    setText(this.el.error, payload.message + ".");
    if (!this.el.input.value && this.lastSent) {
      this.el.input.value = this.lastSent;
    }
  }

  submit(event) {
    event.preventDefault();
    const text = this.el.input.value.trim();
    if (!text || this.page.closed) {
      return;
    }
    setText(this.el.error, "");
    this.lastSent = text;
    this.connection.send("CHAT", {message: text});
    this.el.input.value = "";
  }

  showEnabled(enabled) {
    if (enabled && !this.el.off.hidden) {
      setText(this.el.error, ""); // a "chat is disabled" refusal no longer holds
    }
    this.el.off.hidden = enabled;
  }
}
