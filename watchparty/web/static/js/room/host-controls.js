// The host's controls (SPEC R38, R92): play, pause and seek over the socket; chat on/off
// and delete through the HTTP API, with a refusal said in words next to them.
import {byId, setText} from "../common.js";
import {errorMessage, requestJson, roomPath} from "./api.js";
import {CLOSED_TEXT} from "./page.js";

export class HostControls {
  constructor(page, connection) {
    this.page = page;
    this.connection = connection;
    this.el = {seekForm: byId("seek-form"), seekTo: byId("seek-to"), seekError: byId("seek-error"),
      chatToggle: byId("chat-toggle"), hostError: byId("host-error")};
    byId("play").addEventListener("click", () => connection.send("PLAY", {}));
    byId("pause").addEventListener("click", () => connection.send("PAUSE", {}));
    this.el.seekForm.addEventListener("submit", (event) => this.seek(event));
    this.el.chatToggle.addEventListener("click", () => this.toggleChat());
    byId("delete-room").addEventListener("click", () => this.deleteRoom());
    page.onRoomChange((room) => this.showChatToggle(Boolean(room.is_chat_enabled)));
    this.showChatToggle(Boolean(page.room.is_chat_enabled));
  }

  showChatToggle(enabled) {
    setText(this.el.chatToggle, enabled ? "Disable chat" : "Enable chat");
  }

  seek(event) {
    event.preventDefault();
    const raw = this.el.seekTo.value.trim();
    const seconds = Number(raw);
    if (raw === "" || !isFinite(seconds) || seconds < 0) {
      this.el.seekTo.setAttribute("aria-invalid", "true");
      setText(this.el.seekError, "Enter a number of seconds, 0 or more.");
      return;
    }
    this.el.seekTo.removeAttribute("aria-invalid");
    setText(this.el.seekError, "");
    this.connection.send("SEEK", {time: seconds});
  }

  // A room API call; done(result) for the expected answer, a closed room closes the page.
  callApi(method, body, what, done) {
    setText(this.el.hostError, "");
    requestJson(this.page, method, roomPath(this.page), body).then(
      (result) => {
        if (result.status === 410) {
          this.page.close(CLOSED_TEXT.other);
        } else if (!done(result)) {
          setText(this.el.hostError, errorMessage(result, what + "."));
        }
      },
      () => setText(this.el.hostError, what + ": the server did not answer.")
    );
  }

  toggleChat() {
    const change = {is_chat_enabled: !this.page.room.is_chat_enabled};
    this.callApi("PATCH", change, "The chat setting could not be changed", (result) => {
      const room = result.status === 200 && result.body && result.body.room;
      if (room) {
        this.page.updateRoom(room);
      }
      return Boolean(room);
    });
  }

  deleteRoom() {
    this.callApi("DELETE", undefined, "The room could not be deleted", (result) => {
      if (result.status === 204) {
        this.page.close(CLOSED_TEXT.deleted);
      }
      return result.status === 204;
    });
  }
}
