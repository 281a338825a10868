// The chat (SPEC R50-R56): the log (history, then live messages, each once), the
// message form, refusals said in words, and the "chat is off" line.
import {byId, setText, textElement} from "../common.js";
import {formatTime} from "./player/timeline.js";
import {isStaff} from "./roles.js";

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

// "at 1:05": where the video was when the message was sent (R57). For host and cohosts
// a button that seeks there, while the room still plays the media the message was about.
function mediaStamp(message, page, connection) {
  const stamp = document.createElement("span");
  stamp.className = "chat-media-time";
  const label = "at " + formatTime(message.media_time);
  const text = textElement("span", "chat-media-text", label);
  stamp.append(" ", text);
  if (isStaff(page.role)) {
    const button = textElement("button", "chat-seek", label);
    button.type = "button";
    button.dataset.mediaVersion = String(message.media_version);
    button.addEventListener("click", () => connection.send("SEEK", {time: message.media_time}));
    stamp.append(button);
  }
  return stamp;
}

function chatEntry(message, page, connection) {
  const entry = document.createElement("p");
  entry.className = "chat-message";
  const time = textElement("time", "chat-time", clockTime(message.created_at));
  time.dateTime = String(message.created_at || "");
  entry.append(
    textElement("strong", "chat-author", message.user.display_name), ": ",
    textElement("span", "chat-text", message.message), " ", time
  );
  if (typeof message.media_time === "number" && isFinite(message.media_time)) {
    entry.append(mediaStamp(message, page, connection));
  }
  return entry;
}

// Seek buttons only for messages about the media the room plays now; plain text otherwise.
function showStamps(log, mediaVersion) {
  log.querySelectorAll(".chat-media-time").forEach((stamp) => {
    const button = stamp.querySelector(".chat-seek");
    const current = Boolean(button) && button.dataset.mediaVersion === String(mediaVersion);
    stamp.querySelector(".chat-media-text").hidden = current;
    if (button) {
      button.hidden = !current;
    }
  });
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
    page.onRoomChange((room) => {
      this.showEnabled(Boolean(room.is_chat_enabled));
      showStamps(this.el.log, room.media_version);
    });
    this.showEnabled(Boolean(page.room.is_chat_enabled));
  }

  append(messages) {
    const log = this.el.log;
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
    messages.forEach((message) => {
      if (validMessage(message) && !this.seen.has(message.id)) {
        this.seen.add(message.id);
        log.append(chatEntry(message, this.page, this.connection));
      }
    });
    showStamps(log, this.page.room.media_version);
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
